#pragma once
// One libpq connection with the named statements prepared. Blocking: use it
// only inside a dedicated I/O actor (or at start-up).
#include "protocol/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

struct pg_conn;
typedef struct pg_conn PGconn;

namespace adserver::storage {

enum class batch_outcome {
  committed,
  statement_failed,   // a statement failed; the connection is fine, nothing committed
  connection_failed,  // outcome of the batch unknown; reconnect before reuse
};

class pg_connection {
public:
  /// `time_zone` is the business zone; timestamps are rendered in it.
  /// `timeout_ms` bounds every statement: PostgreSQL cancels it after that
  /// long (statement_timeout), and this side gives up on an answer that has
  /// not come 250 ms later (a server that stopped answering at all), closing
  /// the connection. 0 keeps libpq's blocking behaviour.
  pg_connection(std::string conninfo, std::string time_zone, int64_t timeout_ms = 0);
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  /// Connects and prepares all statements. Empty string or the reason; a
  /// connection that fails anywhere in its set-up is closed, never kept
  /// half-prepared.
  std::string connect();
  bool connected() const;
  /// Plans each prepared statement once (plan_cache_mode), from the next
  /// connect: for the writers, whose statements are keyed writes whose best
  /// plan does not depend on the values (PostgreSQL re-planned the click
  /// statement at every execution, as long as running it).
  void use_generic_plans(bool on) { generic_plans_ = on; }
  void close();

  /// Runs plain SQL (several statements allowed). Empty string or the reason.
  std::string exec(const std::string& sql);

  /// Runs one named statement in its own implicit transaction.
  std::string query(const pg_statement& stmt, pg_rows& out);

  /// Runs units of statements in ONE transaction, pipelined (one round trip).
  /// On success `out` has one pg_results per unit. Where `tickets[i]` names
  /// an Idempotency-Key and unit i's first statement returned a row (it took
  /// effect), the key is recorded with unit i's results in the same
  /// transaction (a second round trip, only then); a key already recorded
  /// within 24 h fails the batch with SQLSTATE 23505.
  batch_outcome run_batch(const std::vector<const std::vector<pg_statement>*>& units,
                          const std::vector<const idempotency_ticket*>& tickets,
                          std::vector<pg_results>& out, std::string& err);

  batch_outcome run_batch(const std::vector<const std::vector<pg_statement>*>& units,
                          std::vector<pg_results>& out, std::string& err) {
    return run_batch(units, {}, out, err);
  }

  /// SELECT 1 within the timeout. Empty string or the reason.
  std::string ping();

  /// SQLSTATE of the last failed statement ("" when none).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

private:
  /// Waits until a result can be read without blocking; false (and the
  /// connection closed) when none came in time or the connection broke.
  bool await_result(std::string& err);
  std::string set_up();
  /// After a failed statement in a batch: roll back, or close the connection.
  batch_outcome abort_batch();
  std::string conninfo_;
  std::string time_zone_;
  int64_t timeout_ms_ = 0;
  bool generic_plans_ = false;
  std::string last_sqlstate_;
  PGconn* conn_ = nullptr;
};

}  // namespace adserver::storage
