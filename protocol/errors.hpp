#pragma once
// The product's error codes (SPEC.md "Errors"), carried as caf::error values
// across actor boundaries and mapped to HTTP statuses once, in net/.
#include <caf/error.hpp>

#include <cstdint>
#include <string>

namespace adserver {

enum class ec : uint8_t {
  ok = 0,
  validation_failed,
  reference_not_found,
  reference_inactive,
  insufficient_balance,
  budget_exhausted,
  duplicate_click,
  invalid_token,
  rate_limited,
  unauthorized,
  unavailable,
  conflict,
  idempotency_key_reused,
  not_found,
  internal,
  forbidden,
};

/// SPEC.md spelling of a code, e.g. "VALIDATION_FAILED".
const char* to_code(ec x);

/// HTTP status for a code.
int http_status(ec x);

caf::error make_error(ec x);

/// An error with a human message and a JSON object of details (as text).
caf::error make_error(ec x, std::string message, std::string details_json = "{}");

/// Parts of an error produced by make_error; foreign errors become internal.
struct error_view {
  ec code = ec::internal;
  std::string message;
  std::string details_json = "{}";
};
error_view view(const caf::error& err);

}  // namespace adserver
