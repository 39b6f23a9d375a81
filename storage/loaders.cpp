#include "storage/loaders.hpp"

#include "protocol/business_time.hpp"
#include "protocol/redis_keys.hpp"
#include "storage/pg_connection.hpp"
#include "storage/statements.hpp"

#include <caf/send.hpp>
#include <caf/typed_actor.hpp>

namespace adserver::storage {

std::string resync_mirror(const std::string& conninfo, const std::string& time_zone,
                          const redis_actor& redis) {
  pg_connection conn{conninfo, time_zone};
  if (auto err = conn.connect(); !err.empty())
    return err;
  pg_rows balances;
  if (auto err = conn.query(all_balances(), balances); !err.empty())
    return err;
  for (auto& row : balances)
    caf::anon_send(redis, set_atom::value, balance_key(to_int(row[0])), row[1], int64_t{0});
  auto today = business_today();
  pg_rows spend;
  if (auto err = conn.query(all_daily_spend(today), spend); !err.empty())
    return err;
  for (auto& row : spend)
    caf::anon_send(redis, set_atom::value, daily_spent_key(to_int(row[0]), today), row[1],
                   int64_t{86400});
  return {};
}

}  // namespace adserver::storage
