#include "storage/migrate.hpp"

#include <libpq-fe.h>

#include <memory>
#include <set>

namespace adserver::storage {

namespace {

using conn_ptr = std::unique_ptr<PGconn, decltype(&PQfinish)>;

std::string run(PGconn* c, const std::string& sql, std::set<int>* versions = nullptr) {
  PGresult* res = PQexec(c, sql.c_str());
  auto st = PQresultStatus(res);
  std::string err;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    err = PQresultErrorMessage(res);
  else if (versions)
    for (int r = 0; r < PQntuples(res); ++r)
      versions->insert(std::stoi(PQgetvalue(res, r, 0)));
  PQclear(res);
  return err;
}

conn_ptr open(const std::string& conninfo, std::string& err) {
  conn_ptr c{PQconnectdb(conninfo.c_str()), &PQfinish};
  if (PQstatus(c.get()) != CONNECTION_OK)
    err = PQerrorMessage(c.get());
  return c;
}

constexpr const char* create_table =
  "CREATE TABLE IF NOT EXISTS schema_migrations ("
  " version integer PRIMARY KEY, name text NOT NULL,"
  " applied_at timestamptz NOT NULL DEFAULT now())";

}  // namespace

std::string apply_migrations(const std::string& conninfo) {
  std::string err;
  auto c = open(conninfo, err);
  if (!err.empty())
    return err;
  // One node migrates at a time; the others wait and then find nothing to do.
  if (err = run(c.get(), "SET client_min_messages = warning; SELECT pg_advisory_lock(727001)");
      !err.empty())
    return err;
  if (err = run(c.get(), create_table); !err.empty())
    return err;
  std::set<int> applied;
  if (err = run(c.get(), "SELECT version FROM schema_migrations", &applied); !err.empty())
    return err;
  for (auto& m : embedded_migrations()) {
    if (applied.count(m.version))
      continue;
    std::string sql = std::string{"BEGIN;\n"} + m.sql
                      + "\n;INSERT INTO schema_migrations (version, name) VALUES ("
                      + std::to_string(m.version) + ", '" + m.name + "');\nCOMMIT;";
    if (err = run(c.get(), sql); !err.empty()) {
      run(c.get(), "ROLLBACK");
      return std::string{"migration "} + m.name + ": " + err;
    }
  }
  run(c.get(), "SELECT pg_advisory_unlock(727001)");
  return {};
}

std::string missing_migration(const std::vector<std::string>& applied) {
  std::set<std::string> have(applied.begin(), applied.end());
  for (auto& m : embedded_migrations())
    if (!have.count(std::to_string(m.version)))
      return std::string{"migration "} + m.name + " not applied";
  return {};
}

}  // namespace adserver::storage
