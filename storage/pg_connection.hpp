#pragma once
// One libpq connection with the named statements prepared. Blocking: use it
// only inside a dedicated I/O actor (or at start-up).
#include "actors/types.hpp"

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
  pg_connection(std::string conninfo, std::string time_zone);
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  /// Connects and prepares all statements. Empty string or the reason.
  std::string connect();
  bool connected() const;
  void close();

  /// Runs plain SQL (several statements allowed). Empty string or the reason.
  std::string exec(const std::string& sql);

  /// Runs one named statement in its own implicit transaction.
  std::string query(const pg_statement& stmt, pg_rows& out);

  /// Runs units of statements in ONE transaction, pipelined (one round trip).
  /// On success `out` has one pg_results per unit.
  batch_outcome run_batch(const std::vector<const std::vector<pg_statement>*>& units,
                          std::vector<pg_results>& out, std::string& err);

private:
  std::string conninfo_;
  std::string time_zone_;
  PGconn* conn_ = nullptr;
};

}  // namespace adserver::storage
