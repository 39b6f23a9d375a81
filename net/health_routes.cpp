// Liveness and readiness.
#include "net/ask.hpp"

#include <nlohmann/json.hpp>

namespace adserver::net {

void add_health_routes(router& r, const app_context& app) {
  r.add("GET", "/healthz", false, [](route_context&, respond_fn respond) {
    respond(json_reply(200, {{"status", "ok"}}));
  });
  // Ready only when PostgreSQL answers and every migration is applied.
  r.add("GET", "/readyz", false, [app](route_context&, respond_fn respond) {
    ask<status_record>(app, app.io.reader, respond,
        [](const status_record& s) {
          auto it = s.figures.find("ready");
          if (it != s.figures.end() && it->second == 1)
            return json_reply(200, {{"status", "ready"}});
          auto why = s.info.count("why") ? s.info.at("why") : std::string{"not ready"};
          return error_reply(503, "UNAVAILABLE", "not ready: " + why);
        },
        status_atom::value);
  });
}

}  // namespace adserver::net
