#include "net/idempotency.hpp"

#include "actors/validation.hpp"
#include "net/ask.hpp"
#include "protocol/errors.hpp"
#include "storage/statements.hpp"

#include <nlohmann/json.hpp>
#include <openssl/sha.h>

namespace adserver::net {

namespace {

constexpr size_t max_key_length = 255;

std::string request_hash(const http_request& req) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  auto add = [&](const std::string& s) {
    SHA256_Update(&ctx, s.data(), s.size());
    SHA256_Update(&ctx, "\n", 1);
  };
  add(req.method);
  add(req.path);
  add(req.body);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

http_reply reused_reply(const std::string& key) {
  return error_reply(make_error(
    ec::idempotency_key_reused,
    "Idempotency-Key " + key + " was used within 24 hours for a different request",
    "{\"field\":\"Idempotency-Key\"}"));
}

/// Looks the key up, then `then(rows)`; a failed lookup answers the error.
void lookup(const app_context& app, const idempotency_ticket& ticket, respond_fn respond,
            std::function<void(const pg_rows&)> then) {
  auto reader = app.io.reader;
  auto stmt = storage::idempotency_lookup(ticket.principal, ticket.key);
  app.bridge->run([=](caf::event_based_actor* self) {
    self->request(reader, actor_timeout, query_atom::value, stmt)
      .then([=](const pg_rows& rows) { then(rows); },
            [=](caf::error& err) { respond(error_reply(err)); });
  });
}

/// Answers from a record: the original response, or 422 for another request.
bool answer_recorded(const pg_rows& rows, const idempotency_ticket& ticket,
                     const replay_fn& replay, const respond_fn& respond) {
  if (rows.empty() || rows[0].size() < 2)
    return false;
  if (rows[0][0] != ticket.request_hash) {
    respond(reused_reply(ticket.key));
    return true;
  }
  auto parsed = nlohmann::json::parse(rows[0][1], nullptr, false);
  pg_results results;
  if (!parsed.is_discarded())
    results = parsed.get<pg_results>();
  auto reply = replay(results);
  reply.headers.emplace_back("Idempotent-Replayed", "true");
  respond(std::move(reply));
  return true;
}

}  // namespace

caf::error read_idempotency(const route_context& ctx, idempotency_ticket& out) {
  out.principal = ctx.principal;
  auto it = ctx.request.headers.find("idempotency-key");
  if (it == ctx.request.headers.end())
    return caf::none;
  auto& key = it->second;
  bool visible = !key.empty() && key.size() <= max_key_length;
  for (unsigned char c : key)
    visible = visible && c > 0x20 && c < 0x7f;
  if (!visible)
    return validation_error("Idempotency-Key",
                            "Idempotency-Key must be 1-255 visible ASCII characters");
  out.key = key;
  out.request_hash = request_hash(ctx.request);
  return caf::none;
}

void idempotent(const app_context& app, const idempotency_ticket& ticket, respond_fn respond,
                replay_fn replay, apply_fn apply) {
  if (ticket.key.empty()) {
    apply(std::move(respond));
    return;
  }
  lookup(app, ticket, respond, [=](const pg_rows& rows) {
    if (answer_recorded(rows, ticket, replay, respond))
      return;
    apply([=](http_reply reply) {
      if (reply.status != 422 || reply.body.find("IDEMPOTENCY_KEY_REUSED") == std::string::npos) {
        respond(std::move(reply));
        return;
      }
      // Another request with this key committed first: answer as it did.
      lookup(app, ticket, respond, [=](const pg_rows& again) {
        if (!answer_recorded(again, ticket, replay, respond))
          respond(reused_reply(ticket.key));
      });
    });
  });
}

}  // namespace adserver::net
