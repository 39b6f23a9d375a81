#pragma once
// JSON in and out of the HTTP API: strict field readers that name the field
// they reject, and record -> JSON writers. Field names are SPEC.md's.
#include "net/router.hpp"
#include "protocol/records.hpp"

#include <caf/error.hpp>
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

namespace adserver::net {

/// The body as a JSON object, or VALIDATION_FAILED.
caf::error parse_object(const std::string& body, nlohmann::json& out);
/// parse_object's refusals: a body nested too deep (checked before parsing,
/// none otherwise), not JSON, not an object.
caf::error check_nesting(const std::string& body);
caf::error not_json_error();
caf::error not_object_error();
/// VALIDATION_FAILED: `field` must be `expected` ("a string", ...).
caf::error wrong_type(const char* field, const char* expected);

/// Required/optional typed fields; VALIDATION_FAILED naming the field.
caf::error read_string(const nlohmann::json& j, const char* field, bool required,
                       std::string& out);
caf::error read_int(const nlohmann::json& j, const char* field, bool required, int64_t& out);
caf::error read_string_array(const nlohmann::json& j, const char* field,
                             std::vector<std::string>& out);
caf::error read_bids(const nlohmann::json& j, const char* field, placement_bids& out);
/// Path parameter {id} as a positive integer.
caf::error read_id(const route_context& ctx, const char* name, int64_t& out);
/// The same for a query parameter.
caf::error read_query_id(const route_context& ctx, const char* name, int64_t& out);

caf::error decode(const nlohmann::json& j, advertiser_spec& out);
caf::error decode(const nlohmann::json& j, balance_change& out);
caf::error decode(const nlohmann::json& j, product_record& out);
caf::error decode(const nlohmann::json& j, campaign_record& out);
caf::error decode(const nlohmann::json& j, experiment_mapping& out);

nlohmann::json to_json(const advertiser_record& x);
nlohmann::json to_json(const balance_change_result& x);
nlohmann::json to_json(const balance_view& x);
nlohmann::json to_json(const product_record& x);
nlohmann::json to_json(const campaign_record& x);
nlohmann::json to_json(const budget_view& x);
nlohmann::json to_json(const status_record& x);
nlohmann::json to_json(const experiment_mapping& x);

http_reply json_reply(int status, const nlohmann::json& body);
/// The error body and status for an error value (codes mapped once, in protocol/errors).
http_reply error_reply(const caf::error& err);

}  // namespace adserver::net
