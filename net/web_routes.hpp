#pragma once
// The web dashboard (web/dashboard.html, compiled into the binary by
// web/embed_web.cmake): GET /dashboard answers the page. The page holds no
// data; it reads the dashboard API with the key its user signs in with.
#include "net/router.hpp"

#include <string_view>

namespace adserver::net {

/// The bytes of web/dashboard.html as built.
std::string_view dashboard_html();

/// GET /dashboard (access::open).
void add_web_routes(router& r);

}  // namespace adserver::net
