#include "net/json_codec.hpp"

#include "actors/validation.hpp"
#include "net/body_fields.hpp"
#include "protocol/errors.hpp"
#include "protocol/telemetry.hpp"

#include <nlohmann/json.hpp>

namespace adserver::net {

using nlohmann::json;

caf::error wrong_type(const char* field, const char* expected) {
  return validation_error(field, std::string{field} + " must be " + expected);
}

namespace {

json audit_json(json j, const audit_fields& a) {
  j["activated"] = a.activated ? 1 : 0;
  j["created_at"] = a.created_at;
  j["updated_at"] = a.updated_at;
  j["created_user_id"] = a.created_user_id;
  j["updated_user_id"] = a.updated_user_id;
  return j;
}

}  // namespace

namespace {

/// Deeper nesting is refused before parsing: nlohmann's values are copied
/// and destroyed recursively, so a deep body could overflow the stack.
constexpr int max_json_depth = 32;

/// Nesting depth of `text` outside strings, counted without recursion.
bool nested_too_deep(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_json_depth)
        return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

caf::error check_nesting(const std::string& body) {
  if (nested_too_deep(body))
    return make_error(ec::validation_failed,
                      "request body is nested deeper than "
                        + std::to_string(max_json_depth) + " levels",
                      "{\"field\":\"body\"}");
  return caf::none;
}

caf::error not_json_error() {
  return make_error(ec::validation_failed, "request body is not valid JSON",
                    "{\"field\":\"body\"}");
}

caf::error not_object_error() {
  return make_error(ec::validation_failed, "request body must be a JSON object",
                    "{\"field\":\"body\"}");
}

caf::error parse_object(const std::string& body, json& out) {
  if (auto err = check_nesting(body))
    return err;
  out = json::parse(body, nullptr, false);
  if (out.is_discarded())
    return not_json_error();
  if (!out.is_object())
    return not_object_error();
  return caf::none;
}

namespace {

/// A parsed object's field as body_fields would have read it.
body_field field_of(const json& j, const char* field) {
  body_field value;
  auto it = j.find(field);
  if (it == j.end())
    return value;
  using kind = body_field::kind;
  if (it->is_null()) {
    value.type = kind::null;
  } else if (it->is_string()) {
    value.type = kind::string;
    value.text = it->get<std::string>();
  } else if (it->is_number_unsigned()) {
    value.type = kind::unsigned_integer;
    value.unsigned_integer = it->get<uint64_t>();
  } else if (it->is_number_integer()) {
    value.type = kind::integer;
    value.integer = it->get<int64_t>();
  } else {
    value.type = kind::other;
  }
  return value;
}

}  // namespace

caf::error read_string(const json& j, const char* field, bool required, std::string& out) {
  return read_string(field_of(j, field), field, required, out);
}

caf::error read_int(const json& j, const char* field, bool required, int64_t& out) {
  return read_int(field_of(j, field), field, required, out);
}

caf::error read_string_array(const json& j, const char* field, std::vector<std::string>& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null())
    return caf::none;
  if (!it->is_array())
    return wrong_type(field, "an array of strings");
  for (auto& x : *it) {
    if (!x.is_string())
      return wrong_type(field, "an array of strings");
    out.push_back(x.get<std::string>());
    if (out.back().find('\0') != std::string::npos)
      return validation_error(field, std::string{field} + " must not contain NUL (\\u0000)");
  }
  return caf::none;
}

caf::error read_bids(const json& j, const char* field, placement_bids& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null())
    return caf::none;
  if (!it->is_object())
    return wrong_type(field, "an object of placement: bid");
  for (auto& [placement, bid] : it->items()) {
    auto name = std::string{field} + "." + placement;
    if (!is_placement(placement))
      return validation_error(name, "unknown placement " + placement
                                      + " (HOME, CATEGORY, SEARCH, PRODUCT_DETAIL)");
    if (!bid.is_number_integer())
      return validation_error(name, name + " must be an integer (won)");
    out[placement] = bid.get<int64_t>();
  }
  return caf::none;
}

namespace {

caf::error positive_id(const std::map<std::string, std::string>& from, const char* name,
                       int64_t& out) {
  auto it = from.find(name);
  const std::string& s = it == from.end() ? std::string{} : it->second;
  bool ok = !s.empty() && s.size() <= 18;
  for (char c : s)
    ok = ok && c >= '0' && c <= '9';
  if (!ok || (out = std::stoll(s)) <= 0)
    return validation_error(name, std::string{name} + " must be a positive integer");
  return caf::none;
}

}  // namespace

caf::error read_id(const route_context& ctx, const char* name, int64_t& out) {
  return positive_id(ctx.params, name, out);
}

caf::error read_query_id(const route_context& ctx, const char* name, int64_t& out) {
  return positive_id(ctx.request.query, name, out);
}

caf::error decode(const json& j, advertiser_spec& out) {
  if (auto e = read_string(j, "advertiser_name", true, out.advertiser_name))
    return e;
  if (auto e = read_string(j, "business_number", true, out.business_number))
    return e;
  if (auto e = read_string(j, "email", true, out.email))
    return e;
  if (auto e = read_string(j, "business_type", true, out.business_type))
    return e;
  return read_int(j, "initial_balance", false, out.initial_balance);
}

caf::error decode(const json& j, balance_change& out) {
  if (auto e = read_string(j, "action", true, out.action))
    return e;
  if (auto e = read_int(j, "amount", true, out.amount))
    return e;
  return read_string(j, "memo", false, out.memo);
}

caf::error decode(const json& j, product_record& out) {
  if (auto e = read_string(j, "product_id", true, out.product_id))
    return e;
  if (auto e = read_string(j, "product_name", true, out.product_name))
    return e;
  if (auto e = read_string(j, "category", true, out.category))
    return e;
  return read_int(j, "price", false, out.price);
}

caf::error decode(const json& j, campaign_record& out) {
  if (auto e = read_int(j, "advertiser_id", true, out.advertiser_id))
    return e;
  if (auto e = read_string(j, "campaign_name", true, out.campaign_name))
    return e;
  if (auto e = read_string(j, "campaign_type", false, out.campaign_type))
    return e;
  if (auto e = read_string(j, "product_id", true, out.product_id))
    return e;
  if (auto e = read_string(j, "start_date", true, out.start_date))
    return e;
  if (auto e = read_string(j, "end_date", true, out.end_date))
    return e;
  if (auto e = read_int(j, "daily_budget", true, out.daily_budget))
    return e;
  if (auto e = read_int(j, "total_budget", true, out.total_budget))
    return e;
  auto t = j.find("targeting");
  if (t != j.end() && !t->is_null()) {
    if (!t->is_object())
      return wrong_type("targeting", "an object {categories, keywords}");
    if (auto e = read_string_array(*t, "categories", out.categories))
      return validation_error("targeting.categories", "targeting.categories must be an array of strings");
    if (auto e = read_string_array(*t, "keywords", out.keywords))
      return validation_error("targeting.keywords", "targeting.keywords must be an array of strings");
  }
  if (auto e = read_string(j, "delivery", false, out.delivery))
    return e;
  return read_bids(j, "bids", out.bids);
}

caf::error decode(const json& j, experiment_mapping& out) {
  for (auto [field, target] :
       {std::pair{"exp_key", &out.exp_key}, std::pair{"exp_var", &out.exp_var},
        std::pair{"original_product_id", &out.original_product_id},
        std::pair{"experiment_product_id", &out.experiment_product_id},
        std::pair{"start_date", &out.start_date}, std::pair{"end_date", &out.end_date}})
    if (auto e = read_string(j, field, true, *target))
      return e;
  return caf::none;
}

json to_json(const experiment_mapping& x) {
  return audit_json({{"id", x.id},
                     {"exp_key", x.exp_key},
                     {"exp_var", x.exp_var},
                     {"original_product_id", x.original_product_id},
                     {"experiment_product_id", x.experiment_product_id},
                     {"start_date", x.start_date},
                     {"end_date", x.end_date}},
                    x.audit);
}

json to_json(const advertiser_record& x) {
  return audit_json({{"id", x.id},
                     {"advertiser_name", x.advertiser_name},
                     {"business_number", x.business_number},
                     {"email", x.email},
                     {"business_type", x.business_type},
                     {"status", x.status},
                     {"balance", x.balance}},
                    x.audit);
}

json to_json(const balance_change_result& x) {
  return {{"advertiser_id", x.advertiser_id},
          {"balance_before", x.balance_before},
          {"balance_after", x.balance_after},
          {"history_id", x.history_id}};
}

json to_json(const balance_view& x) {
  json campaigns = json::array();
  for (auto& c : x.campaigns)
    campaigns.push_back({{"campaign_id", c.campaign_id},
                         {"daily_budget", c.daily_budget},
                         {"spent_today", c.spent_today},
                         {"total_budget", c.total_budget},
                         {"spent_total", c.spent_total}});
  return {{"advertiser_id", x.advertiser_id}, {"balance", x.balance}, {"campaigns", campaigns}};
}

json to_json(const product_record& x) {
  return audit_json({{"product_id", x.product_id},
                     {"product_name", x.product_name},
                     {"category", x.category},
                     {"price", x.price}},
                    x.audit);
}

json to_json(const campaign_record& x) {
  json bids = json::object();
  for (auto& [k, v] : x.bids)
    bids[k] = v;
  return audit_json({{"id", x.id},
                     {"advertiser_id", x.advertiser_id},
                     {"campaign_name", x.campaign_name},
                     {"campaign_type", x.campaign_type},
                     {"product_id", x.product_id},
                     {"start_date", x.start_date},
                     {"end_date", x.end_date},
                     {"status", x.status},
                     {"daily_budget", x.daily_budget},
                     {"total_budget", x.total_budget},
                     {"targeting", {{"categories", x.categories}, {"keywords", x.keywords}}},
                     {"bids", bids},
                     {"delivery", x.delivery}},
                    x.audit);
}

json to_json(const budget_view& x) {
  return {{"campaign_id", x.campaign_id},       {"daily_budget", x.daily_budget},
          {"spent_today", x.spent_today},       {"remaining_today", x.remaining_today},
          {"total_budget", x.total_budget},     {"spent_total", x.spent_total},
          {"remaining_total", x.remaining_total},
          {"delivery", x.delivery},             {"pacing_target_today", x.pacing_target_today}};
}

json to_json(const status_record& x) {
  // The common status protocol's shape: every kind alike, so tools read
  // any actor without knowing its insides.
  return {{"kind", x.kind},
          {"key", x.key},
          {"figures", x.figures.empty() ? json::object() : json(x.figures)},
          {"info", x.info.empty() ? json::object() : json(x.info)}};
}

http_reply json_reply(int status, const json& body) {
  http_reply r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

namespace {

/// A failed logical join (no foreign keys: the application checks every
/// reference), by the table its details name.
void count_reference_failure(const std::string& details) {
  auto table = reference_table::other;
  if (details.find("\"advertiser_id\"") != std::string::npos)
    table = reference_table::advertisers;
  else if (details.find("\"campaign_id\"") != std::string::npos)
    table = reference_table::campaigns;
  else if (details.find("\"product_id\"") != std::string::npos)
    table = reference_table::products;
  else if (details.find("\"mapping_id\"") != std::string::npos
           || details.find("\"exp_key\"") != std::string::npos)
    table = reference_table::experiments;
  telemetry().reference_failures[static_cast<size_t>(table)].fetch_add(
    1, std::memory_order_relaxed);
}

}  // namespace

http_reply error_reply(const caf::error& err) {
  auto v = view(err);
  if (v.code == ec::reference_not_found || v.code == ec::reference_inactive)
    count_reference_failure(v.details_json);
  auto reply = error_reply(http_status(v.code), to_code(v.code), v.message, v.details_json);
  // Every "try again later" says when.
  if (v.code == ec::unavailable)
    reply.headers.emplace_back("Retry-After", "1");
  return reply;
}

}  // namespace adserver::net
