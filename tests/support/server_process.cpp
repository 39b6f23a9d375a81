#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace adserver::testing {

std::string test_pg_conninfo() {
  if (const char* s = std::getenv("ADSERVER_TEST_PG_CONNINFO"))
    return s;
  return "host=127.0.0.1 port=55432 dbname=adserver user=adserver";
}

int test_redis_port() {
  if (const char* s = std::getenv("ADSERVER_TEST_REDIS_PORT"))
    return std::atoi(s);
  return 56379;
}

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return std::to_string(getpid()) + "_" + std::to_string(now % 1000000007) + "_"
         + std::to_string(counter++);
}

std::string unique_business_number() {
  static std::mt19937_64 rng{std::random_device{}()
                             ^ static_cast<uint64_t>(getpid())
                             ^ static_cast<uint64_t>(
                               std::chrono::steady_clock::now().time_since_epoch().count())};
  auto n = rng() % 10000000000ULL;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%010llu", static_cast<unsigned long long>(n));
  std::string s = buf;
  return s.substr(0, 3) + "-" + s.substr(3, 2) + "-" + s.substr(5, 5);
}

std::vector<std::pair<std::string, nlohmann::json>> read_topic(const std::string& bootstrap,
                                                               const std::string& topic) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  auto cmd = "kcat -b " + bootstrap + " -C -t " + topic
             + " -o beginning -e -q -f '%k\\t%s\\n' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p)
    return out;
  char line[65536];
  while (std::fgets(line, sizeof line, p)) {
    std::string l = line;
    auto tab = l.find('\t');
    if (tab == std::string::npos)
      continue;
    auto j = nlohmann::json::parse(l.substr(tab + 1), nullptr, false);
    if (!j.is_discarded())
      out.emplace_back(l.substr(0, tab), std::move(j));
  }
  pclose(p);
  return out;
}

std::string sql_one(const std::string& query) {
  PGconn* c = PQconnectdb(test_pg_conninfo().c_str());
  PGresult* r = PQexec(c, query.c_str());
  std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(c);
  return out;
}

std::string test_uuid(const char* series, int i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-%.4s-%012d", series, i);
  return buf;
}

test_campaign active_search_campaign(const server_process& s, const std::string& term,
                                     campaign_setup setup) {
  using nlohmann::json;
  test_campaign out;
  auto adv = s.admin("POST", "/admin/v1/advertisers",
                     json{{"advertiser_name", "Test"},
                          {"business_number", unique_business_number()},
                          {"email", "t@test.example"},
                          {"business_type", "RETAIL"},
                          {"initial_balance", setup.balance}}
                       .dump());
  EXPECT_EQ(adv.status, 201) << adv.body;
  out.advertiser = adv.json.value("id", int64_t{0});
  auto pid = "TST_" + unique_suffix();
  out.product = pid;
  EXPECT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", pid}, {"product_name", "p"}, {"category", "a"}}.dump())
              .status,
            201);
  auto c = s.admin("POST", "/admin/v1/campaigns",
                   json{{"advertiser_id", out.advertiser}, {"campaign_name", "c"},
                        {"product_id", pid}, {"start_date", "2026-01-01"},
                        {"end_date", "2099-01-01"}, {"daily_budget", setup.daily_budget},
                        {"total_budget", setup.total_budget}, {"delivery", setup.delivery},
                        {"targeting", {{"keywords", {term}}}}, {"bids", {{"SEARCH", setup.bid}}}}
                     .dump());
  EXPECT_EQ(c.status, 201) << c.body;
  out.campaign = c.json.value("id", int64_t{0});
  EXPECT_EQ(s.admin("PATCH", "/admin/v1/campaigns/" + std::to_string(out.campaign) + "/status",
                    R"({"status":"ACTIVE"})")
              .status,
            200);
  return out;
}

server_process::server_process(std::map<std::string, std::string> flags)
  : flags_(std::move(flags)), token_("test-admin-token-" + unique_suffix()) {
  // Nodes of one cluster share their admin token ("principal:token").
  if (auto it = flags_.find("admin.tokens"); it != flags_.end())
    token_ = it->second.substr(it->second.find(':') + 1);
}

server_process::~server_process() {
  stop();
}

bool server_process::start() {
  int out_pipe[2];
  if (pipe(out_pipe) != 0)
    return false;
  std::map<std::string, std::string> f = {
    {"http.port", "0"},
    {"postgres.conninfo", test_pg_conninfo()},
    {"redis.port", std::to_string(test_redis_port())},
    {"admin.tokens", "tester:" + token_},
    {"security.hmac_secret", "test-hmac-secret-0123456789abcdef-0123456789"},
    {"kafka.spool_path", "/tmp/adserver-test-spool-" + unique_suffix() + ".bin"},
  };
  for (auto& [k, v] : flags_)
    f[k] = v;
  flags_ = f;
  std::vector<std::string> args = {ADSERVER_BIN};
  for (auto& [k, v] : f)
    args.push_back("--" + k + "=" + v);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(out_pipe[0]);
    close(out_pipe[1]);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  // Read stdout until the ready line announces the port.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string buf;
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  while (std::chrono::steady_clock::now() < deadline) {
    char chunk[4096];
    auto n = read(out_pipe[0], chunk, sizeof chunk);
    if (n > 0) {
      buf.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      break;  // exited
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto k = buf.find("kcat -b ");
    auto p = buf.find("adserver ready: http://127.0.0.1:");
    if (p != std::string::npos && k != std::string::npos && buf.find('\n', k) != std::string::npos) {
      port_ = std::atoi(buf.c_str() + p + std::string{"adserver ready: http://127.0.0.1:"}.size());
      auto s = k + 8;
      kafka_ = buf.substr(s, buf.find(' ', s) - s);
      break;
    }
  }
  output_ = buf;
  // Keep draining the child's output so it never blocks on a full pipe.
  int fd = out_pipe[0];
  std::thread([fd] {
    fcntl(fd, F_SETFL, 0);
    char chunk[4096];
    while (read(fd, chunk, sizeof chunk) > 0) {
    }
    close(fd);
  }).detach();
  if (port_ == 0)
    return false;
  for (int i = 0; i < 100; ++i) {
    if (call("GET", "/readyz").status == 200)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void server_process::signal(int sig) {
  if (pid_ > 0)
    ::kill(pid_, sig);
}

void server_process::kill9() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

bool server_process::stop() {
  if (pid_ <= 0)
    return false;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill9();
  return false;
}

http_result server_process::admin(
  const std::string& method, const std::string& target, const std::string& body,
  const std::vector<std::pair<std::string, std::string>>& headers) const {
  return http_call(port_, method, target, body, token_, headers);
}

http_result server_process::call(const std::string& method, const std::string& target,
                                 const std::string& body) const {
  return http_call(port_, method, target, body);
}

}  // namespace adserver::testing
