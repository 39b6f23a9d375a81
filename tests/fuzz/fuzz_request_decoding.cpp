// libFuzzer: every decoder a request body or query string meets. None may
// crash, hang or overflow the stack, whatever the bytes.
#include "actors/dashboard_logic.hpp"
#include "actors/text_normalize.hpp"
#include "actors/validation.hpp"
#include "net/api_keys.hpp"
#include "net/body_fields.hpp"
#include "net/json_codec.hpp"
#include "net/router.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

using namespace adserver;

namespace {

bool same(const caf::error& a, const caf::error& b) {
  auto x = view(a);
  auto y = view(b);
  return bool(a) == bool(b) && x.code == y.code && x.message == y.message
         && x.details_json == y.details_json;
}

/// The hot endpoints' DOM-free reader must accept, refuse and read exactly
/// what the parsed object gives.
void same_reading(const std::string& input, const nlohmann::json& j, const caf::error& parsed) {
  // One reader for every input, as the server keeps one per thread: nothing
  // of an earlier body may show in a later reading.
  static net::body_fields flat{"device_id", "max_ads", "token"};
  if (!same(flat.parse(input), parsed))
    __builtin_trap();
  if (parsed)
    return;
  for (const char* field : {"device_id", "token", "max_ads"}) {
    std::string a = "-", b = "-";
    if (!same(flat.read_string(field, true, a), net::read_string(j, field, true, b)) || a != b)
      __builtin_trap();
    int64_t x = -1, y = -1;
    if (!same(flat.read_int(field, false, x), net::read_int(j, field, false, y)) || x != y)
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  net::parse_query(input);
  // Dashboard query parameters (startTime/endTime, dates, units) and keys.
  if (auto t = parse_iso8601(input))
    window_of(*t, window_unit::month);
  parse_business_date(input);
  parse_unit(input);
  net::api_key_registry keys;
  keys.find(input);
  nlohmann::json j;
  auto parsed = net::parse_object(input, j);
  same_reading(input, j, parsed);
  if (parsed)
    return 0;
  advertiser_spec advertiser;
  if (!net::decode(j, advertiser))
    validate(advertiser);
  balance_change change;
  if (!net::decode(j, change))
    validate(change);
  product_record product;
  if (!net::decode(j, product))
    validate(product);
  campaign_record campaign;
  if (!net::decode(j, campaign))
    validate_new_campaign(campaign, "2026-11-25");
  experiment_mapping mapping;
  if (!net::decode(j, mapping))
    validate(mapping);
  placement_bids bids;
  net::read_bids(j, "bids", bids);
  ad_request req;
  std::string text;
  net::read_string(j, "device_id", false, req.device_id);
  net::read_string(j, "session_id", false, req.session_id);
  net::read_string(j, "placement", false, req.placement);
  net::read_string(j, "search_term", false, req.search_term);
  net::read_string(j, "category", false, req.category);
  net::read_string(j, "exp_key", false, req.exp_key);
  net::read_string(j, "exp_var", false, req.exp_var);
  net::read_int(j, "max_ads", false, req.max_ads);
  if (!check_ad_request(req))
    auction_key(req);
  if (!net::read_string(j, "click_time", false, text))
    is_iso8601_timestamp(text);
  std::vector<std::string> list;
  net::read_string_array(j, "keywords", list);
  // Whatever was read must render as valid JSON again.
  auto quoted = json_quote(input);
  auto back = nlohmann::json::parse(quoted, nullptr, false);
  if (back.is_discarded() && is_valid_utf8(input))
    __builtin_trap();
  return 0;
}
