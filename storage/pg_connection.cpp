#include "storage/pg_connection.hpp"

#include "storage/statements.hpp"

#include <libpq-fe.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <poll.h>

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

pg_connection::pg_connection(std::string conninfo, std::string time_zone, int64_t timeout_ms)
  : conninfo_(std::move(conninfo)), time_zone_(std::move(time_zone)), timeout_ms_(timeout_ms) {
}

bool pg_connection::await_result(std::string& err) {
  if (timeout_ms_ <= 0)
    return true;
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_ + 250);
  while (PQisBusy(conn_)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  until - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0) {
      err = "no answer from PostgreSQL within " + std::to_string(timeout_ms_ + 250) + " ms";
      close();
      return false;
    }
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left));
    if (n < 0 && errno != EINTR) {
      err = std::string{"poll: "} + std::strerror(errno);
      close();
      return false;
    }
    if (n > 0 && PQconsumeInput(conn_) != 1) {
      err = trimmed_error(PQerrorMessage(conn_));
      close();
      return false;
    }
  }
  return true;
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
  auto err = set_up();
  if (!err.empty())
    close();
  return err;
}

std::string pg_connection::set_up() {
  std::string zone = time_zone_;
  for (char c : zone)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+'))
      return "bad time zone name";
  auto timeout = std::to_string(timeout_ms_ > 0 ? timeout_ms_ : 30000);
  // A transaction of ours sends its statements back to back: one left idle
  // that long means its process stopped (paused, or hung) with row locks
  // held. The database ends that session, so the others' writes (another
  // node that took the advertiser over) do not wait on it for good.
  if (auto err = exec("SET TIME ZONE '" + zone + "'; SET statement_timeout = " + timeout
                      + "; SET idle_in_transaction_session_timeout = " + timeout
                      + (generic_plans_ ? "; SET plan_cache_mode = force_generic_plan" : ""));
      !err.empty())
    return err;
  for (auto& [name, sql] : named_statements()) {
    PGresult* res = PQprepare(conn_, name, sql, 0, nullptr);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    std::string err = ok ? "" : std::string{"prepare "} + name + ": "
                                  + trimmed_error(PQresultErrorMessage(res));
    PQclear(res);
    if (!ok)
      return err;
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
  if (!send_prepared(conn_, stmt)) {
    auto err = trimmed_error(PQerrorMessage(conn_));
    close();
    return err;
  }
  std::string err;
  bool first = true;
  for (;;) {
    if (!await_result(err))
      return err;
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr)
      break;
    auto st = PQresultStatus(res);
    if (first && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK))
      collect_rows(res, out);
    else if (first)
      err = trimmed_error(PQresultErrorMessage(res));
    first = false;
    PQclear(res);
  }
  if (!err.empty() && PQstatus(conn_) != CONNECTION_OK)
    close();
  return err;
}

std::string pg_connection::ping() {
  if (!connected())
    return "not connected";
  if (PQsendQuery(conn_, "SELECT 1") != 1) {
    auto err = trimmed_error(PQerrorMessage(conn_));
    close();
    return err;
  }
  std::string err;
  for (;;) {
    if (!await_result(err))
      return err;
    PGresult* res = PQgetResult(conn_);
    if (res == nullptr)
      break;
    if (PQresultStatus(res) != PGRES_TUPLES_OK && err.empty())
      err = trimmed_error(PQresultErrorMessage(res));
    PQclear(res);
  }
  if (PQstatus(conn_) != CONNECTION_OK) {
    close();
    return err.empty() ? "connection lost" : err;
  }
  return err;
}

namespace {

/// Runs one statement outside pipeline mode within the timeout; its SQLSTATE
/// on failure.
bool run_plain(PGconn* conn, const char* sql, const std::vector<std::string>& params,
               std::string& err, std::string& sqlstate) {
  std::vector<const char*> values;
  for (auto& p : params)
    values.push_back(p.c_str());
  PGresult* res = PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  auto st = PQresultStatus(res);
  bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok) {
    err = trimmed_error(PQresultErrorMessage(res));
    auto* code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    sqlstate = code ? code : "";
  }
  PQclear(res);
  return ok;
}

}  // namespace

batch_outcome pg_connection::abort_batch() {
  if (PQstatus(conn_) != CONNECTION_OK) {
    close();
    return batch_outcome::connection_failed;
  }
  // An explicit transaction stays aborted after a failure: end it; a
  // connection that cannot is not reused (nothing committed either way).
  if (!exec("ROLLBACK").empty())
    close();
  return batch_outcome::statement_failed;
}

batch_outcome pg_connection::run_batch(
  const std::vector<const std::vector<pg_statement>*>& units,
  const std::vector<const idempotency_ticket*>& tickets, std::vector<pg_results>& out,
  std::string& err) {
  out.clear();
  last_sqlstate_.clear();
  bool keyed = false;
  for (auto* t : tickets)
    keyed = keyed || (t != nullptr && !t->key.empty());
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
  // With idempotency keys the transaction stays open after the sync: the
  // keys are recorded with the results, then committed.
  if (!keyed)
    sent = sent
           && PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  sent = sent && PQpipelineSync(conn_) == 1;
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
    if (!await_result(err))
      return batch_outcome::connection_failed;
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
      if (!failed && st == PGRES_FATAL_ERROR) {
        err = trimmed_error(PQresultErrorMessage(res));
        auto* code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        last_sqlstate_ = code ? code : "";
      }
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
  if (PQexitPipelineMode(conn_) != 1) {
    // Stuck in pipeline mode: nothing later could run on it.
    err = trimmed_error(PQerrorMessage(conn_));
    out.clear();
    close();
    return batch_outcome::connection_failed;
  }
  if (failed) {
    out.clear();
    return abort_batch();
  }
  if (!keyed)
    return batch_outcome::committed;
  for (size_t u = 0; u < units.size(); ++u) {
    auto* t = u < tickets.size() ? tickets[u] : nullptr;
    // A unit that changed nothing (a compare-and-set miss, a duplicate) has
    // no result to replay: its key stays free for the retry.
    if (t == nullptr || t->key.empty() || out[u].empty() || out[u][0].empty())
      continue;
    auto results = nlohmann::json(out[u]).dump(-1, ' ', false,
                                               nlohmann::json::error_handler_t::replace);
    if (!run_plain(conn_, "SELECT adserver_record_idempotency($1, $2, $3, $4::jsonb)",
                   {t->principal, t->key, t->request_hash, results}, err, last_sqlstate_)) {
      out.clear();
      return abort_batch();
    }
  }
  std::string commit_state;
  if (!run_plain(conn_, "COMMIT", {}, err, commit_state)) {
    out.clear();
    // The outcome of a COMMIT whose answer was lost is unknown.
    close();
    return batch_outcome::connection_failed;
  }
  return batch_outcome::committed;
}

}  // namespace adserver::storage
