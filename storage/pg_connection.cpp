#include "storage/pg_connection.hpp"

#include "storage/statements.hpp"

#include <libpq-fe.h>

namespace adserver::storage {

namespace {

void collect_rows(PGresult* res, pg_rows& out) {
  int rows = PQntuples(res);
  int cols = PQnfields(res);
  out.reserve(out.size() + rows);
  for (int r = 0; r < rows; ++r) {
    pg_row row;
    row.reserve(cols);
    for (int c = 0; c < cols; ++c)
      row.emplace_back(PQgetisnull(res, r, c) ? std::string{}
                                               : std::string{PQgetvalue(res, r, c),
                                                             static_cast<size_t>(PQgetlength(res, r, c))});
    out.push_back(std::move(row));
  }
}

std::string trimmed_error(const char* msg) {
  std::string s = msg ? msg : "unknown error";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

bool send_prepared(PGconn* conn, const pg_statement& stmt) {
  std::vector<const char*> values;
  values.reserve(stmt.params.size());
  for (auto& p : stmt.params)
    values.push_back(p.c_str());
  return PQsendQueryPrepared(conn, stmt.name.c_str(), static_cast<int>(values.size()),
                             values.data(), nullptr, nullptr, 0)
         == 1;
}

}  // namespace

pg_connection::pg_connection(std::string conninfo, std::string time_zone)
  : conninfo_(std::move(conninfo)), time_zone_(std::move(time_zone)) {
}

pg_connection::~pg_connection() {
  close();
}

void pg_connection::close() {
  if (conn_) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

bool pg_connection::connected() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

std::string pg_connection::connect() {
  close();
  conn_ = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    auto err = trimmed_error(PQerrorMessage(conn_));
    close();
    return err;
  }
  std::string zone = time_zone_;
  for (char c : zone)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+'))
      return "bad time zone name";
  if (auto err = exec("SET TIME ZONE '" + zone + "'; SET statement_timeout = '30s'");
      !err.empty())
    return err;
  for (auto& [name, sql] : named_statements()) {
    PGresult* res = PQprepare(conn_, name, sql, 0, nullptr);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    std::string err = ok ? "" : std::string{"prepare "} + name + ": "
                                  + trimmed_error(PQresultErrorMessage(res));
    PQclear(res);
    if (!ok) {
      close();
      return err;
    }
  }
  return {};
}

std::string pg_connection::exec(const std::string& sql) {
  if (!conn_)
    return "not connected";
  PGresult* res = PQexec(conn_, sql.c_str());
  auto st = PQresultStatus(res);
  std::string err;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    err = trimmed_error(PQresultErrorMessage(res));
  PQclear(res);
  return err;
}

std::string pg_connection::query(const pg_statement& stmt, pg_rows& out) {
  if (!connected())
    return "not connected";
  std::vector<const char*> values;
  for (auto& p : stmt.params)
    values.push_back(p.c_str());
  PGresult* res = PQexecPrepared(conn_, stmt.name.c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0);
  auto st = PQresultStatus(res);
  std::string err;
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
    collect_rows(res, out);
  else
    err = trimmed_error(PQresultErrorMessage(res));
  PQclear(res);
  return err;
}

batch_outcome pg_connection::run_batch(
  const std::vector<const std::vector<pg_statement>*>& units, std::vector<pg_results>& out,
  std::string& err) {
  out.clear();
  if (!connected()) {
    err = "not connected";
    return batch_outcome::connection_failed;
  }
  if (PQenterPipelineMode(conn_) != 1) {
    err = trimmed_error(PQerrorMessage(conn_));
    return batch_outcome::connection_failed;
  }
  bool sent = PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  for (auto* unit : units)
    for (auto& stmt : *unit)
      sent = sent && send_prepared(conn_, stmt);
  sent = sent
         && PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1
         && PQpipelineSync(conn_) == 1;
  if (!sent) {
    err = trimmed_error(PQerrorMessage(conn_));
    PQexitPipelineMode(conn_);
    close();
    return batch_outcome::connection_failed;
  }
  // Results arrive in send order: BEGIN, each statement, COMMIT, then the sync.
  // PQgetResult yields NULL between the results of consecutive queries.
  out.resize(units.size());
  std::vector<size_t> owner;  // unit of the k-th statement
  for (size_t u = 0; u < units.size(); ++u)
    owner.insert(owner.end(), units[u]->size(), u);
  size_t query_index = 0;  // 0 = BEGIN, 1..n statements, n+1 = COMMIT
  size_t total_statements = owner.size();
  bool failed = false;
  bool synced = false;
  while (!synced) {
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr) {
      if (PQstatus(conn_) != CONNECTION_OK) {
        err = trimmed_error(PQerrorMessage(conn_));
        close();
        return batch_outcome::connection_failed;
      }
      continue;
    }
    auto st = PQresultStatus(res);
    if (st == PGRES_PIPELINE_SYNC) {
      synced = true;
    } else if (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED) {
      if (!failed && st == PGRES_FATAL_ERROR)
        err = trimmed_error(PQresultErrorMessage(res));
      failed = true;
      ++query_index;
    } else {
      bool is_statement = query_index >= 1 && query_index <= total_statements;
      if (is_statement && !failed) {
        auto& unit_results = out[owner[query_index - 1]];
        unit_results.emplace_back();
        collect_rows(res, unit_results.back());
      }
      ++query_index;
    }
    PQclear(res);
  }
  PQexitPipelineMode(conn_);
  if (failed) {
    out.clear();
    if (PQstatus(conn_) != CONNECTION_OK) {
      close();
      return batch_outcome::connection_failed;
    }
    // An explicit transaction stays aborted after the sync: end it.
    exec("ROLLBACK");
    return batch_outcome::statement_failed;
  }
  return batch_outcome::committed;
}

}  // namespace adserver::storage
