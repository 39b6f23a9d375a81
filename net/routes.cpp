// The whole HTTP API in one place: what main serves and what the OpenAPI
// drift test compares with docs/openapi.yaml.
#include "net/app_context.hpp"
#include "net/router.hpp"
#include "net/web_routes.hpp"

namespace adserver::net {

void add_all_routes(router& r, const app_context& app, std::shared_ptr<api_key_registry> keys,
                    std::shared_ptr<const metrics_registry> metrics) {
  add_metrics_route(r, std::move(metrics));
  add_health_routes(r, app);
  add_admin_routes(r, app);
  add_list_routes(r, app);
  add_ads_routes(r, app);
  add_dashboard_routes(r, app, std::move(keys));
  add_monitoring_routes(r, app);
  add_inspect_routes(r, app);
  add_cluster_routes(r, app);
  add_web_routes(r);
}

}  // namespace adserver::net
