#include "protocol/errors.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace adserver {

namespace {
constexpr caf::atom_value category = caf::atom("adserver");
}

const char* to_code(ec x) {
  switch (x) {
    case ec::ok: return "OK";
    case ec::validation_failed: return "VALIDATION_FAILED";
    case ec::reference_not_found: return "REFERENCE_NOT_FOUND";
    case ec::reference_inactive: return "REFERENCE_INACTIVE";
    case ec::insufficient_balance: return "INSUFFICIENT_BALANCE";
    case ec::budget_exhausted: return "BUDGET_EXHAUSTED";
    case ec::duplicate_click: return "DUPLICATE_CLICK";
    case ec::invalid_token: return "INVALID_TOKEN";
    case ec::rate_limited: return "RATE_LIMITED";
    case ec::unauthorized: return "UNAUTHORIZED";
    case ec::unavailable: return "UNAVAILABLE";
    case ec::conflict: return "CONFLICT";
    case ec::idempotency_key_reused: return "IDEMPOTENCY_KEY_REUSED";
    case ec::not_found: return "NOT_FOUND";
    case ec::internal: return "INTERNAL";
    case ec::forbidden: return "FORBIDDEN";
  }
  return "INTERNAL";
}

int http_status(ec x) {
  switch (x) {
    case ec::ok: return 200;
    case ec::validation_failed: return 400;
    case ec::invalid_token: return 400;
    case ec::reference_not_found: return 404;
    case ec::not_found: return 404;
    case ec::reference_inactive: return 409;
    case ec::insufficient_balance: return 409;
    case ec::budget_exhausted: return 409;
    case ec::duplicate_click: return 409;
    case ec::conflict: return 409;
    case ec::idempotency_key_reused: return 422;
    case ec::rate_limited: return 429;
    case ec::unauthorized: return 401;
    case ec::unavailable: return 503;
    case ec::internal: return 500;
    case ec::forbidden: return 403;
  }
  return 500;
}

caf::error make_error(ec x) {
  return caf::error{static_cast<uint8_t>(x), category};
}

caf::error make_error(ec x, std::string message, std::string details_json) {
  return caf::error{static_cast<uint8_t>(x), category,
                    caf::make_message(std::move(message), std::move(details_json))};
}

error_view view(const caf::error& err) {
  error_view out;
  if (!err) {
    out.code = ec::ok;
    return out;
  }
  if (err.category() != category) {
    out.code = ec::unavailable;
    out.message = "internal request failed (code " + std::to_string(err.code()) + ")";
    return out;
  }
  out.code = static_cast<ec>(err.code());
  const auto& ctx = err.context();
  if (ctx.match_elements<std::string, std::string>()) {
    out.message = ctx.get_as<std::string>(0);
    out.details_json = ctx.get_as<std::string>(1);
  } else {
    out.message = to_code(out.code);
  }
  return out;
}

}  // namespace adserver
