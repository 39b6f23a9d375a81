// Serves the embedded dashboard page.
#include "net/web_routes.hpp"

namespace adserver::net {

namespace {

/// One self-contained file: its script and style are inline, everything it
/// fetches (the API, the SSE stream) is on this origin.
constexpr const char* content_security_policy =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
  "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

void add_web_routes(router& r) {
  r.add("GET", "/dashboard", access::open, [](route_context&, respond_fn respond) {
    http_reply reply;
    reply.status = 200;
    reply.body = std::string{dashboard_html()};
    reply.content_type = "text/html; charset=utf-8";
    reply.headers.emplace_back("Cache-Control", "no-cache");
    reply.headers.emplace_back("Content-Security-Policy", content_security_policy);
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
    reply.headers.emplace_back("Referrer-Policy", "no-referrer");
    respond(std::move(reply));
  });
}

}  // namespace adserver::net
