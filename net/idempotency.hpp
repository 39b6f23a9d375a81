#pragma once
// Idempotency-Key on money-changing admin calls (PUT balance, POST
// advertisers, POST campaigns): the same key with the same request within
// 24 h answers the original response without a second effect; with another
// request it is 422 IDEMPOTENCY_KEY_REUSED. The key is recorded by the
// PostgreSQL writer in the change's own transaction, with the change's result
// rows, and a replay renders those rows the way the first answer did.
#include "net/app_context.hpp"
#include "net/router.hpp"

#include <functional>

namespace adserver::net {

/// The ticket of a request: its principal, the Idempotency-Key header (empty
/// when absent) and a hash of method, path and body. VALIDATION_FAILED for a
/// key that is empty, longer than 255 characters or not visible ASCII.
caf::error read_idempotency(const route_context& ctx, idempotency_ticket& out);

/// Renders a recorded change's result rows as the original response.
using replay_fn = std::function<http_reply(const pg_results&)>;
/// Applies the change (passing the ticket on) and answers through `respond`.
using apply_fn = std::function<void(respond_fn)>;

/// Without a key, `apply`. With one: a recorded key answers from the record
/// (or 422); otherwise `apply`, and if a concurrent request with the same key
/// committed first, the record is read again and answered from.
void idempotent(const app_context& app, const idempotency_ticket& ticket, respond_fn respond,
                replay_fn replay, apply_fn apply);

}  // namespace adserver::net
