#include "net/router.hpp"

#include "actors/validation.hpp"
#include "config/log.hpp"
#include "net/api_keys.hpp"
#include "net/metrics.hpp"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <random>

#include <openssl/crypto.h>

namespace adserver::net {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string::npos)
      j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0
               && hex_digit(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// Constant-time lookup so response timing does not leak token prefixes.
const std::string* find_principal(const std::map<std::string, std::string>& tokens,
                                  const std::string& presented) {
  const std::string* found = nullptr;
  for (auto& [token, who] : tokens)
    if (token.size() == presented.size()
        && CRYPTO_memcmp(token.data(), presented.data(), token.size()) == 0)
      found = &who;
  return found;
}

constexpr size_t max_echoed_path = 200;

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

/// Whether a path's segments fit a route's pattern ({name} matches any one).
bool fits(const std::vector<std::string>& pattern, const std::vector<std::string>& path) {
  if (pattern.size() != path.size())
    return false;
  for (size_t i = 0; i < path.size(); ++i)
    if (!is_param(pattern[i]) && pattern[i] != path[i])
      return false;
  return true;
}

/// The methods a path answers to, as an Allow header value.
std::string allow_header(std::vector<std::string> methods) {
  bool get = false;
  for (auto& m : methods)
    get = get || m == "GET";
  if (get)
    methods.push_back("HEAD");
  methods.push_back("OPTIONS");
  std::string allow;
  for (auto& m : methods)
    allow += (allow.empty() ? "" : ", ") + m;
  return allow;
}

}  // namespace

http_reply error_reply(int status, const std::string& code, const std::string& message,
                       const std::string& details_json) {
  http_reply r;
  r.status = status;
  r.body = "{\"error\":{\"code\":" + json_quote(code) + ",\"message\":" + json_quote(message)
           + ",\"details\":" + (details_json.empty() ? "{}" : details_json) + "}}";
  return r;
}

std::map<std::string, std::string> parse_query(const std::string& q) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i <= q.size() && !q.empty()) {
    auto j = q.find('&', i);
    if (j == std::string::npos)
      j = q.size();
    auto part = q.substr(i, j - i);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string::npos)
        out[decode(part)] = "";
      else
        out[decode(part.substr(0, eq))] = decode(part.substr(eq + 1));
    }
    i = j + 1;
    if (j == q.size())
      break;
  }
  return out;
}

void router::add(const std::string& method, const std::string& pattern, bool admin,
                 handler_fn h) {
  add(method, pattern, admin ? access::admin : access::open, std::move(h));
}

void router::add(const std::string& method, const std::string& pattern, access who,
                 handler_fn h) {
  routes_.push_back({method, pattern, split_path(pattern), who, std::move(h)});
}

std::vector<std::pair<std::string, std::string>> router::table() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& r : routes_)
    out.emplace_back(r.method, r.pattern);
  return out;
}

void router::set_forwarder(forward_fn forward) {
  forward_ = std::move(forward);
}

void router::set_metrics(std::shared_ptr<metrics_registry> metrics) {
  metrics_ = std::move(metrics);
}

void router::set_api_keys(std::shared_ptr<const api_key_registry> keys) {
  api_keys_ = std::move(keys);
}

bool router::authenticate(const route& r, route_context& ctx, const respond_fn& respond) const {
  if (r.who == access::open)
    return true;
  const auto& req = ctx.request;
  std::string presented;
  if (auto it = req.headers.find("authorization");
      it != req.headers.end() && it->second.rfind("Bearer ", 0) == 0)
    presented = it->second.substr(7);
  else if (auto q = req.query.find("access_token");
           r.who == access::stream_reader && q != req.query.end())
    presented = q->second;
  if (auto who = find_principal(admin_tokens_, presented)) {
    ctx.principal = *who;
    return true;
  }
  std::optional<api_key_owner> owner;
  if (api_keys_ && !presented.empty())
    owner = api_keys_->find(presented);
  if (!owner) {
    auto reply = error_reply(401, "UNAUTHORIZED",
                             r.who == access::admin
                               ? "a valid admin bearer token is required"
                               : "a valid admin token or advertiser API key is required");
    reply.headers.emplace_back("WWW-Authenticate", "Bearer");
    respond(std::move(reply));
    return false;
  }
  if (r.who == access::admin) {
    respond(error_reply(403, "FORBIDDEN",
                        "an advertiser API key reads its own balance, campaigns, budgets and "
                        "dashboards only"));
    return false;
  }
  ctx.principal = "advertiser:" + std::to_string(owner->advertiser_id);
  ctx.advertiser_id = owner->advertiser_id;
  return true;
}

void router::set_admin_tokens(std::map<std::string, std::string> tokens) {
  admin_tokens_ = std::move(tokens);
}

std::string router::pattern_of(const std::string& path) const {
  auto segments = split_path(path);
  for (auto& r : routes_)
    if (fits(r.segments, segments))
      return r.pattern;
  return "unmatched";
}

std::string request_id_for(const http_request& req) {
  if (auto it = req.headers.find("x-request-id"); it != req.headers.end()) {
    auto& id = it->second;
    bool sane = !id.empty() && id.size() <= 128;
    for (char c : id)
      sane = sane && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_'
                      || c == ':' || c == '-');
    if (sane)
      return id;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

void router::dispatch(const http_request& req, respond_fn respond) const {
  auto started = std::chrono::steady_clock::now();
  auto id = req.request_id.empty() ? request_id_for(req) : req.request_id;
  bool counted = metrics_ && req.method != "HEAD";
  bool logged = log_enabled(log_level::info);
  if (counted || logged) {
    // Counted by route pattern (bounded label values), not by path.
    auto route = pattern_of(req.path);
    auto metrics = counted ? metrics_ : nullptr;
    respond = [metrics, route, method = req.method, client = req.client_address, id, started,
               logged, answer_by = req.answer_by_ms, respond](http_reply reply) {
      auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                       .count();
      // Past its deadline the client got the server's 503, not this answer.
      bool late = answer_by != 0
                  && std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                         .count()
                       >= answer_by;
      auto status = late ? 503 : reply.status;
      if (metrics)
        metrics->observe_request(route, method, status, seconds);
      if (logged) {
        char ms[32];
        *std::to_chars(ms, ms + sizeof ms - 1, seconds * 1e3, std::chars_format::fixed, 3).ptr = '\0';
        log_line(log_level::info, "request",
                 {{"method", method},
                  {"route", route},
                  {"status", std::to_string(status), true},
                  {"ms", ms, true},
                  {"request_id", id},
                  {"client", client},
                  {"late", late ? "true" : "false", true}});
      }
      reply.headers.emplace_back("X-Request-Id", id);
      respond(std::move(reply));
    };
  } else {
    respond = [id, respond](http_reply reply) {
      reply.headers.emplace_back("X-Request-Id", id);
      respond(std::move(reply));
    };
  }
  route_request(req, std::move(respond));
}

void router::route_request(const http_request& req, respond_fn respond) const {
  // HEAD is GET without the body (the length stays in the headers).
  if (req.method == "HEAD") {
    auto as_get = req;
    as_get.method = "GET";
    route_request(as_get, [respond](http_reply reply) {
      reply.head_only = true;
      respond(std::move(reply));
    });
    return;
  }
  auto segments = split_path(req.path);
  bool path_matched = false;
  std::vector<std::string> allowed;
  for (auto& r : routes_) {
    if (!fits(r.segments, segments))
      continue;
    std::map<std::string, std::string> params;
    for (size_t i = 0; i < segments.size(); ++i)
      if (is_param(r.segments[i]))
        params[r.segments[i].substr(1, r.segments[i].size() - 2)] = decode(segments[i]);
    path_matched = true;
    if (r.method != req.method) {
      allowed.push_back(r.method);
      continue;
    }
    route_context ctx{req, std::move(params), {}};
    if (!authenticate(r, ctx, respond))
      return;
    if (forward_ && !req.forwarded) {
      // Served here after all (the owner turned out to be this node): the
      // request is a copy, so it may come from another thread, later.
      auto handler = r.handler;
      auto here = [handler, ctx_params = ctx.params, principal = ctx.principal,
                   advertiser = ctx.advertiser_id](const http_request& copy, respond_fn answer) {
        route_context later{copy, ctx_params, principal, advertiser};
        handler(later, std::move(answer));
      };
      if (forward_(r.pattern, ctx, respond, here))
        return;
    }
    r.handler(ctx, std::move(respond));
    return;
  }
  if (path_matched && req.method == "OPTIONS") {
    http_reply reply;
    reply.status = 204;
    reply.headers.emplace_back("Allow", allow_header(allowed));
    respond(std::move(reply));
    return;
  }
  if (path_matched) {
    auto allow = allow_header(allowed);
    auto reply = error_reply(405, "METHOD_NOT_ALLOWED", req.method + " is not allowed here",
                             "{\"allow\":" + json_quote(allow) + "}");
    reply.headers.emplace_back("Allow", allow);
    respond(std::move(reply));
    return;
  }
  respond(error_reply(404, "NOT_FOUND",
                      "no such endpoint: " + req.path.substr(0, max_echoed_path)));
}

}  // namespace adserver::net
