#pragma once
// Starts build/adserver as a child process against the services tools/check
// started, and speaks to it over HTTP.
#include "tests/support/http_client.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>
#include <sys/types.h>

namespace adserver::testing {

/// PostgreSQL connection string of the test services.
std::string test_pg_conninfo();
int test_redis_port();
/// A business number no other test run has used (NNN-NN-NNNNN).
std::string unique_business_number();
/// A string unique to this process and call, for ids and names.
std::string unique_suffix();
/// The first column of the first row of `query` on the test database ("" when
/// there is none).
std::string sql_one(const std::string& query);
/// Device id number `i` of a test file's own `series` (four hex digits), so
/// test files never share devices: 00000000-0000-4000-<series>-<i>.
std::string test_uuid(const char* series, int i);

/// Every message of a Kafka topic so far, read with kcat: (key, JSON body);
/// bodies that are not JSON are skipped.
std::vector<std::pair<std::string, nlohmann::json>> read_topic(const std::string& bootstrap,
                                                               const std::string& topic);

/// Money and bid of a test campaign (won).
struct campaign_setup {
  int64_t balance = 1'000'000;
  int64_t bid = 100;
  int64_t daily_budget = 100'000;
  int64_t total_budget = 10'000'000;
  /// Unpaced by default: money tests spend budgets faster than a business
  /// day's pacing allows (tests/e2e/pacing_test.cpp covers STANDARD).
  std::string delivery = "ACCELERATED";
};
struct test_campaign {
  int64_t advertiser = 0;
  int64_t campaign = 0;
  std::string product;
};

class server_process;

/// A new advertiser with one ACTIVE SEARCH campaign on `term` (each step
/// checked with EXPECT); its ids.
test_campaign active_search_campaign(const server_process& s, const std::string& term,
                                     campaign_setup setup = {});

class server_process {
public:
  /// Extra settings as --key=value flags.
  explicit server_process(std::map<std::string, std::string> flags = {});
  ~server_process();
  /// Starts and waits until /readyz answers 200; false on failure.
  bool start();
  /// SIGKILL: no clean shutdown.
  void kill9();
  /// Sends `sig` (SIGSTOP, SIGCONT: a paused process) to the server.
  void signal(int sig);
  /// SIGTERM and wait; true when it exited by itself (SIGKILL after 10 s
  /// otherwise), false also when it was not running.
  bool stop();
  int port() const { return port_; }
  const std::string& admin_token() const { return token_; }
  const std::string& output() const { return output_; }
  const std::string& kafka_bootstrap() const { return kafka_; }

  http_result admin(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  http_result call(const std::string& method, const std::string& target,
                   const std::string& body = "") const;

private:
  std::map<std::string, std::string> flags_;
  std::string token_;
  std::string output_;
  std::string kafka_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace adserver::testing
