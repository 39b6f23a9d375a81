// adctl nodes, adctl where: the cluster as the node asked sees it, from
// /admin/v1/inspect/nodes and /admin/v1/inspect/where (docs/cluster.md).
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"
#include "tools/adctl/output.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace adctl {

using nlohmann::json;

namespace {

std::string yes_no(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j.at(key).is_boolean() && j.at(key).get<bool>()
           ? "yes"
           : "no";
}

}  // namespace

int run_nodes(invocation& inv) {
  auto j = inv.api().get("/admin/v1/inspect/nodes");
  if (inv.json) {
    print_json(std::cout, j);
    return 0;
  }
  std::cout << "asked " << text(j, "node")
            << (yes_no(j, "clustered") == "yes" ? " (clustered)" : " (single node)") << "\n\n";
  table t({"NODE", "HTTP", "PEERS AT", "LIVE", "REACHED", "PLACED", "LEASES", "HEARTBEAT"});
  for (auto& n : j.value("nodes", json::array()))
    t.add({text(n, "node") + (yes_no(n, "self") == "yes" ? " *" : ""), text(n, "http_url"),
           text(n, "actor_address"), yes_no(n, "live"), yes_no(n, "reachable"),
           yes_no(n, "placed"), text(n, "ledger_leases"), text(n, "heartbeat_at")});
  if (t.empty())
    std::cout << "no members\n";
  else
    t.print(std::cout);
  return 0;
}

int run_where(invocation& inv) {
  auto& kind = inv.args.at(0);
  std::string query;
  if (kind == "advertiser")
    query = "advertiser_id=" + std::to_string(positive_integer(inv.args.at(1), "ADVERTISER_ID"));
  else if (kind == "campaign")
    query = "campaign_id=" + std::to_string(positive_integer(inv.args.at(1), "CAMPAIGN_ID"));
  else if (kind == "session")
    query = "session_id=" + encode_component(inv.args.at(1));
  else
    throw usage_error("where takes advertiser, campaign or session, not '" + kind + "'");
  auto j = inv.api().get("/admin/v1/inspect/where?" + query);
  if (inv.json) {
    print_json(std::cout, j);
    return 0;
  }
  if (kind == "session") {
    print_fields(std::cout,
                 {{"session", text(j, "session_id")},
                  {"node", text(j, "node") + (yes_no(j, "self") == "yes" ? " (the node asked)" : "")},
                  {"http", text(j, "http_url")},
                  {"shard", text(j, "shard")}});
    return 0;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  if (kind == "campaign")
    fields.push_back({"campaign", text(j, "campaign_id")});
  fields.push_back({"advertiser", text(j, "advertiser_id")});
  fields.push_back({"node", text(j, "node") + (yes_no(j, "self") == "yes" ? " (the node asked)" : "")});
  fields.push_back({"http", text(j, "http_url")});
  fields.push_back({"lease", text(j, "lease_node") + " (epoch " + text(j, "lease_epoch") + ")"});
  print_fields(std::cout, fields);
  return 0;
}

}  // namespace adctl
