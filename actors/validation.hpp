#pragma once
// Input rules of the admin API (seed 000 §5-7), as plain functions.
#include "protocol/records.hpp"

#include <caf/error.hpp>

#include <string>

namespace adserver {

bool is_business_number(const std::string& s);  // NNN-NN-NNNNN
bool is_email(const std::string& s);
bool is_calendar_date(const std::string& s);  // YYYY-MM-DD, a real day
bool is_placement(const std::string& s);
/// The placements in a fixed order (counters per placement use it).
inline constexpr const char* placement_names[4] = {"HOME", "CATEGORY", "SEARCH",
                                                    "PRODUCT_DETAIL"};
/// The index of a placement in placement_names; -1 for anything else.
int placement_index(const std::string& s);
bool is_category_path(const std::string& s);  // a/b/c: no empty segment, <= 200 bytes, UTF-8       // HOME|CATEGORY|SEARCH|PRODUCT_DETAIL

/// Largest amount of won accepted anywhere (keeps sums far from overflow).
constexpr int64_t max_money = 1'000'000'000'000'000;  // 10^15

/// VALIDATION_FAILED naming the field, or none.
caf::error validation_error(const std::string& field, const std::string& message);

caf::error validate(const advertiser_spec& x);
caf::error validate(const balance_change& x);
caf::error validate(const product_record& x);
caf::error validate_bids(const placement_bids& bids);
/// STANDARD or ACCELERATED, else VALIDATION_FAILED on field "delivery".
caf::error check_delivery(const std::string& delivery);
/// A new campaign; `today` is the business date (start_date may not be earlier).
caf::error validate_new_campaign(const campaign_record& x, const std::string& today);

caf::error validate(const experiment_mapping& x);

bool is_uuid(const std::string& s);  // 8-4-4-4-12 hex digits
/// The value of a hex digit (either case), or -1.
int hex_digit(unsigned char c);
/// ISO 8601 date-time with seconds and a zone: 2026-11-24T10:30:00[.123](Z|+09:00).
bool is_iso8601_timestamp(const std::string& s);

/// Longest session_id accepted anywhere (bytes). Every string a public
/// endpoint accepts has such a bound (docs/openapi.yaml lists them), so no
/// accepted event comes near the producer's message size limit.
constexpr size_t max_session_id_bytes = 128;
/// VALIDATION_FAILED naming session_id when it is too long or not UTF-8.
caf::error check_session_id(const std::string& session_id);

/// Checks an ad request (seed 000 step 1) and normalizes it in place: the
/// search term (SEARCH) and category (CATEGORY) are required there and
/// dropped elsewhere; the auction key is what selects the auction actor.
caf::error check_ad_request(ad_request& x);
std::string auction_key(const ad_request& x);

/// Escapes a string for embedding in a JSON document.
std::string json_quote(const std::string& s);
/// Appends json_quote(s) to `out` (hot paths build JSON without a DOM).
void append_json_string(std::string& out, const std::string& s);

}  // namespace adserver
