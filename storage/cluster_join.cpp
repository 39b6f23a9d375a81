#include "storage/cluster_join.hpp"

#include "storage/pg_connection.hpp"
#include "storage/statements.hpp"

#include <chrono>
#include <thread>

namespace adserver::storage {

std::string join_cluster(const std::string& conninfo, const std::string& time_zone,
                         const cluster_member& me, int64_t lease_ms, int64_t wait_ms) {
  pg_connection db{conninfo, time_zone, 5000};
  if (auto err = db.connect(); !err.empty())
    return err;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    pg_rows rows;
    if (auto err = db.query(member_register(me, lease_ms), rows); !err.empty())
      return err;
    if (!rows.empty())
      return {};
    if (std::chrono::steady_clock::now() >= until)
      return "node id " + me.node_id
             + " is held by another live process (cluster_members); stop it, wait "
               "cluster.lease_ms, or choose another node.name";
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace adserver::storage
