#pragma once
// HTTP requests as plain values, and the table that maps method + path to a
// handler. No Beast here: handlers and tests stay light.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace adserver::net {

struct event_stream;

struct http_request {
  std::string method;
  std::string path;                         // without the query string
  std::map<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string client_address;
  /// Unix ms after which actors drop this request's work (the HTTP answer,
  /// 503 if nothing else came, goes out a margin later); 0 = none.
  int64_t deadline_ms = 0;
  /// Came from another node (net/cluster_gateway): served here, never
  /// forwarded again.
  bool forwarded = false;
  /// X-Request-Id of the answer (request_id_for(); empty: the router picks).
  std::string request_id;
  /// Unix ms at which the server answers 503 itself if the handler has not
  /// answered (0: never); a later answer is dropped, and counted and logged
  /// as that 503.
  int64_t answer_by_ms = 0;
};

struct http_reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool head_only = false;  // answer to HEAD: headers (with the length), no body
  /// Set (with status 200): the answer is a Server-Sent Events stream
  /// (net/event_stream.hpp); body and content type are ignored.
  std::shared_ptr<event_stream> stream;
};

/// Completes a request; callable from any thread, exactly once.
using respond_fn = std::function<void(http_reply)>;

struct route_context {
  const http_request& request;
  std::map<std::string, std::string> params;  // {id} segments
  std::string principal;                      // admin routes: who is calling
  /// Non-zero: the caller holds this advertiser's API key (read-only, its
  /// own data only; handlers check what they return belongs to it).
  int64_t advertiser_id = 0;
};

/// Who may call a route.
enum class access {
  open,    // anyone (serving, tracking, health)
  admin,   // an admin bearer token
  reader,  // an admin token, or an advertiser API key (its own data)
  /// reader, and the credential may also come as ?access_token= (EventSource
  /// cannot send headers; streams only)
  stream_reader,
};

class api_key_registry;
class metrics_registry;

using handler_fn = std::function<void(route_context&, respond_fn)>;

/// Decides, after authentication, whether another node serves a request
/// (net/cluster_gateway.hpp): true when it took the request (and answers
/// it); false to serve it here. It may wrap `respond` (a header naming the
/// owner). `here` serves the request on this node later, from any thread.
using forward_fn = std::function<bool(const std::string& pattern, route_context& ctx,
                                      respond_fn& respond,
                                      std::function<void(const http_request&, respond_fn)> here)>;

class router {
public:
  /// `pattern` like "/admin/v1/advertisers/{id}/balance".
  void add(const std::string& method, const std::string& pattern, bool admin, handler_fn h);
  void add(const std::string& method, const std::string& pattern, access who, handler_fn h);
  /// token -> principal for admin routes.
  void set_admin_tokens(std::map<std::string, std::string> tokens);
  /// Advertiser API keys (reader routes); none: only admin tokens read.
  void set_api_keys(std::shared_ptr<const api_key_registry> keys);
  /// Cluster forwarding (none: every request is served here).
  void set_forwarder(forward_fn forward);
  /// Where each answered request is counted (route pattern, method, status,
  /// latency); none: not counted.
  void set_metrics(std::shared_ptr<metrics_registry> metrics);
  /// Answers `req` through `respond`, exactly once. Every answer carries
  /// X-Request-Id (the client's when sane, else a new one), is counted in the
  /// metrics and logged (info: one JSON line, no credentials).
  void dispatch(const http_request& req, respond_fn respond) const;
  /// (method, pattern) of every route, in the order added (the API's table,
  /// compared with docs/openapi.yaml by a test).
  std::vector<std::pair<std::string, std::string>> table() const;

private:
  struct route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    access who;
    handler_fn handler;
  };
  /// Fills ctx.principal / ctx.advertiser_id, or answers 401/403 and
  /// returns false.
  bool authenticate(const route& r, route_context& ctx, const respond_fn& respond) const;
  /// The route pattern a path matches ("unmatched": none).
  std::string pattern_of(const std::string& path) const;
  void route_request(const http_request& req, respond_fn respond) const;
  std::vector<route> routes_;
  std::map<std::string, std::string> admin_tokens_;
  std::shared_ptr<const api_key_registry> api_keys_;
  std::shared_ptr<metrics_registry> metrics_;
  forward_fn forward_;
};

/// The JSON error body of SPEC.md with the status of its code.
http_reply error_reply(int status, const std::string& code, const std::string& message,
                       const std::string& details_json = "{}");

/// The client's X-Request-Id when it is 1..128 characters of [A-Za-z0-9._:-]
/// (safe to echo and log), else a new random one (32 hex digits).
std::string request_id_for(const http_request& req);

/// Splits "a=1&b=x%20y" into a decoded map.
std::map<std::string, std::string> parse_query(const std::string& q);

}  // namespace adserver::net
