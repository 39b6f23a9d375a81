// build/adctl run as a child process against a live server: tables and
// --json, every inspection command, the exit statuses scripts rely on (0
// fine, 1 failed, found a problem or not ready, 2 wrong use), "--", the
// one-line messages for an unreachable node and a refused token, and an
// integrity run that outlasts its request.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace adserver::testing;
using nlohmann::json;

namespace {

struct run_result {
  int status = -1;  // exit status; -1: killed (timed out) or did not start
  std::string out;
  std::string err;
};

/// Runs build/adctl with `args`; the environment is this process's without
/// ADSERVER_URL/TOKEN/BROKERS, plus `env`. Killed after `timeout`.
run_result adctl(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {},
                 std::chrono::seconds timeout = std::chrono::seconds(30)) {
  run_result r;
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
    return r;
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (kv.rfind("ADSERVER_URL=", 0) == 0 || kv.rfind("ADSERVER_TOKEN=", 0) == 0
        || kv.rfind("ADSERVER_BROKERS=", 0) == 0 || kv.rfind("ADSERVER_KAFKA_BROKERS=", 0) == 0)
      continue;
    envs.push_back(kv);
  }
  for (auto& [k, v] : env)
    envs.push_back(k + "=" + v);
  std::vector<std::string> argv_s = {ADCTL_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[0]);
    close(err_pipe[1]);
    std::vector<char*> argv, envp;
    for (auto& a : argv_s)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : envs)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open = 2;
  bool killed = false;
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0 && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    if (poll(fds, 2, left > 0 ? static_cast<int>(std::min<int64_t>(left, 1000)) : 100) < 0)
      break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      char buf[4096];
      auto n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string describe(const run_result& r) {
  return "exit " + std::to_string(r.status) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

size_t line_count(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

/// A port on 127.0.0.1 where nothing listens (bound once, then closed).
int closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

/// The output of a shell command (redis-cli).
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p)
    return out;
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

std::string redis_cli(const std::string& args) {
  return shell("redis-cli -p " + std::to_string(test_redis_port()) + " " + args + " 2>&1");
}

int64_t create_advertiser(const server_process& s, const std::string& name, int64_t balance) {
  auto r = s.admin("POST", "/admin/v1/advertisers",
                   json{{"advertiser_name", name},
                        {"business_number", unique_business_number()},
                        {"email", "adctl@test.example"},
                        {"business_type", "RETAIL"},
                        {"initial_balance", balance}}
                     .dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json.value("id", int64_t{0});
}

int64_t create_campaign(const server_process& s, int64_t advertiser, const std::string& name) {
  auto product = "ADCTL_" + unique_suffix();
  EXPECT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", product}, {"product_name", "p"}, {"category", "a"}}.dump())
              .status,
            201);
  auto r = s.admin("POST", "/admin/v1/campaigns",
                   json{{"advertiser_id", advertiser},
                        {"campaign_name", name},
                        {"product_id", product},
                        {"start_date", "2026-01-01"},
                        {"end_date", "2099-01-01"},
                        {"daily_budget", 1000},
                        {"total_budget", 50000},
                        {"bids", {{"HOME", 120}}}}
                     .dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.json.value("id", int64_t{0});
}

/// The lines of `out` that hold `needle`.
std::vector<std::string> lines_with(const std::string& out, const std::string& needle) {
  std::vector<std::string> found;
  size_t start = 0;
  while (start < out.size()) {
    auto end = out.find('\n', start);
    if (end == std::string::npos)
      end = out.size();
    auto line = out.substr(start, end - start);
    if (line.find(needle) != std::string::npos)
      found.push_back(line);
    start = end + 1;
  }
  return found;
}

/// The value of the "name  value" line of `out` ("" when there is none).
std::string field_value(const std::string& out, const std::string& name) {
  for (auto& line : lines_with(out, name))
    if (line.rfind(name + " ", 0) == 0) {
      auto value = line.substr(name.size());
      value.erase(0, value.find_first_not_of(' '));
      return value;
    }
  return "";
}

/// --url and --token of `s`, then `args`.
std::vector<std::string> node_args(const server_process& s, std::vector<std::string> args) {
  std::vector<std::string> out = {"--url", "http://127.0.0.1:" + std::to_string(s.port()),
                                  "--token", s.admin_token()};
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

class Adctl : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    server = new server_process();
    ASSERT_TRUE(server->start()) << server->output();
  }
  static void TearDownTestSuite() {
    delete server;
  }
  /// --url and --token of the test server, then `args`.
  static std::vector<std::string> with_node(std::vector<std::string> args) {
    return node_args(*server, std::move(args));
  }
  static std::string url() { return "http://127.0.0.1:" + std::to_string(server->port()); }
  static run_result run(std::vector<std::string> args) { return adctl(with_node(std::move(args))); }
  static server_process* server;
};

server_process* Adctl::server = nullptr;

/// The commands on issue 9's monitoring, inspection and integrity endpoints
/// (the same fixture: its own server, started when this suite begins).
class AdctlInspect : public Adctl {};

// -- usage -----------------------------------------------------------------------

TEST_F(Adctl, UsageErrorsExitTwoWithOneLine) {
  const std::vector<std::vector<std::string>> wrong = {
    {},
    {"bogus"},
    {"ledger"},
    {"ledger", "abc"},
    {"ledger", "1", "2"},
    {"campaign", "-3"},
    {"advertisers", "--limit", "0"},
    {"advertisers", "--limit", "501"},
    {"advertisers", "--limit"},
    {"advertisers", "--status", "BOGUS"},
    {"campaigns", "--advertiser", "x"},
    {"campaigns", "--no-such-flag"},
    {"auction", "NOWHERE"},
    {"auction", "SEARCH"},
    {"auction", "HOME", "extra"},
    {"events"},
    {"events", "tail"},
    {"events", "tail", "no-such-topic", "--brokers", "127.0.0.1:1"},
    {"events", "follow", "ad-events"},
    {"top", "--interval", "0"},
    {"integrity", "--run=yes"},
    {"integrity", "--wait", "5"},  // --wait goes with --run
    {"integrity", "--run", "--wait", "0"},
    {"integrity", "--run", "--wait", "soon"},
    {"integrity", "--run", "--wait"},
    {"--timeout", "0", "status"},
    {"status", "--timeout", "-1"},
    {"status", "--timeout=x"},
    {"events", "tail", "ad-events", "--brokers", "127.0.0.1:1", "--timeout", "0"},
    {"events", "tail", "ad-events", "--brokers", "127.0.0.1:1", "--timeout", "later"},
    {"ledger", "--", "--json"},  // after "--" a word is an argument, here a bad one
    {"--", "--json", "status"},  // ... or the command's name
    {"reconcile", "0"},
    {"help", "bogus"},
  };
  for (auto& args : wrong) {
    auto r = run(args);
    std::string shown;
    for (auto& a : args)
      shown += a + " ";
    EXPECT_EQ(r.status, 2) << shown << describe(r);
    EXPECT_EQ(line_count(r.err), 1u) << shown << describe(r);
    EXPECT_EQ(r.err.rfind("adctl: ", 0), 0u) << shown << describe(r);
    EXPECT_NE(r.err.find("see 'adctl"), std::string::npos) << shown << describe(r);
    EXPECT_EQ(r.out, "") << shown;
  }
}

TEST_F(Adctl, HelpOnEveryCommandExitsZero) {
  auto overview = adctl({"help"});
  EXPECT_EQ(overview.status, 0) << describe(overview);
  EXPECT_EQ(adctl({"--help"}).status, 0);
  for (std::string name : {"status", "top", "ledger", "campaign", "auction", "session", "actors",
                           "nodes", "where", "events", "reconcile", "integrity", "advertisers",
                           "campaigns", "help"}) {
    EXPECT_NE(overview.out.find("\n  " + name), std::string::npos) << name << "\n" << overview.out;
    auto r = adctl({name, "--help"});
    EXPECT_EQ(r.status, 0) << name << describe(r);
    EXPECT_EQ(r.out.rfind("usage: adctl " + name, 0), 0u) << describe(r);
    EXPECT_EQ(r.err, "");
    auto h = adctl({"help", name});
    EXPECT_EQ(h.status, 0) << name << describe(h);
    EXPECT_EQ(h.out, r.out);
  }
  // --help wins over missing arguments: it is how one learns them.
  EXPECT_EQ(adctl({"ledger", "--help"}).status, 0);
  EXPECT_EQ(adctl({"events", "tail", "--help"}).status, 0);
}

TEST_F(Adctl, DoubleDashEndsTheOptions) {
  // A session id that starts with '-' is an argument after "--": asked for
  // (and not found), not refused as an unknown flag.
  auto id = "-adctl-dash-" + unique_suffix();
  auto r = run({"session", "--", id});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(line_count(r.err), 1u) << describe(r);
  EXPECT_NE(r.err.find("404"), std::string::npos) << describe(r);
  EXPECT_EQ(r.err.find("has no option"), std::string::npos) << describe(r);
  // --help after "--" is an argument too, not the usage.
  auto help = run({"session", "--", "--help"});
  EXPECT_EQ(help.status, 1) << describe(help);
  EXPECT_EQ(help.out, "") << describe(help);
  EXPECT_NE(help.err.find("404"), std::string::npos) << describe(help);
  // Options before "--" still count, and the command's name may follow it.
  auto j = run({"--json", "--", "status"});
  EXPECT_EQ(j.status, 0) << describe(j);
  EXPECT_TRUE(json::parse(j.out, nullptr, false).is_object()) << j.out;
}

TEST_F(Adctl, TimeoutIsAGlobalOptionAnywhere) {
  auto before = run({"--timeout", "5", "actors"});
  EXPECT_EQ(before.status, 0) << describe(before);
  auto after = run({"actors", "--timeout=2.5"});
  EXPECT_EQ(after.status, 0) << describe(after);
  EXPECT_EQ(before.err, "");
}

// -- failures --------------------------------------------------------------------

TEST_F(Adctl, AnUnreachableNodeIsOneLineAndExitOne) {
  auto port = std::to_string(closed_port());
  auto r = adctl({"--url", "http://127.0.0.1:" + port, "--token", "whatever-token", "advertisers"});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(r.err, "adctl: cannot reach http://127.0.0.1:" + port + ": connection refused\n")
    << describe(r);
  EXPECT_EQ(r.out, "");
  // The same through the environment.
  auto env = adctl({"status"}, {{"ADSERVER_URL", "http://127.0.0.1:" + port},
                                {"ADSERVER_TOKEN", "whatever-token"}});
  EXPECT_EQ(env.status, 1) << describe(env);
  EXPECT_EQ(line_count(env.err), 1u) << describe(env);
  EXPECT_NE(env.err.find("cannot reach"), std::string::npos) << describe(env);
}

TEST_F(Adctl, AWrongTokenNames401) {
  for (std::string command : {"advertisers", "campaigns"}) {
    auto r = adctl({"--url", url(), "--token", "not-the-admin-token-0123", command});
    EXPECT_EQ(r.status, 1) << describe(r);
    EXPECT_EQ(r.err, "adctl: the node refused the admin token (401 UNAUTHORIZED)\n")
      << describe(r);
  }
  // No token at all is a usage error: nothing was sent.
  auto none = adctl({"--url", url(), "advertisers"});
  EXPECT_EQ(none.status, 2) << describe(none);
}

TEST_F(Adctl, OtherApiErrorsPrintTheServersCode) {
  auto r = run({"ledger", "999999999"});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(line_count(r.err), 1u) << describe(r);
  // "adctl: STATUS CODE: message", as the server said it.
  EXPECT_EQ(r.err.rfind("adctl: 404 ", 0), 0u) << describe(r);
  EXPECT_NE(r.err.find("NOT_FOUND: "), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("999999999"), std::string::npos) << describe(r);
}

// -- listings --------------------------------------------------------------------

TEST_F(Adctl, CampaignsOfAnAdvertiserAsATableAndAsJson) {
  auto name = "Adctl " + unique_suffix();
  auto advertiser = create_advertiser(*server, name, 7000);
  std::vector<int64_t> campaigns;
  for (int i = 0; i < 3; ++i)
    campaigns.push_back(create_campaign(*server, advertiser, "adctl-c" + std::to_string(i)));
  ASSERT_EQ(server->admin("PATCH", "/admin/v1/campaigns/" + std::to_string(campaigns[1]) + "/status",
                          R"({"status":"ACTIVE"})")
              .status,
            200);
  // --limit 2: two pages, both walked.
  auto r = run({"campaigns", "--advertiser", std::to_string(advertiser), "--limit", "2"});
  ASSERT_EQ(r.status, 0) << describe(r);
  auto header = lines_with(r.out, "ADVERTISER");
  ASSERT_EQ(header.size(), 1u) << r.out;
  auto status_column = header[0].find("STATUS");
  ASSERT_NE(status_column, std::string::npos);
  for (size_t i = 0; i < campaigns.size(); ++i) {
    auto rows = lines_with(r.out, "adctl-c" + std::to_string(i));
    ASSERT_EQ(rows.size(), 1u) << r.out;
    EXPECT_NE(rows[0].find(std::to_string(campaigns[i])), std::string::npos) << rows[0];
    // Columns line up under their headers.
    EXPECT_EQ(rows[0].substr(status_column, i == 1 ? 6 : 7), i == 1 ? "ACTIVE" : "PENDING")
      << r.out;
  }
  EXPECT_NE(r.out.find("3 campaign(s)"), std::string::npos) << r.out;

  auto j = run({"--json", "campaigns", "--advertiser", std::to_string(advertiser), "--limit", "2"});
  ASSERT_EQ(j.status, 0) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << j.out;
  ASSERT_EQ(doc["items"].size(), 3u) << j.out;
  EXPECT_TRUE(doc["next_cursor"].is_null());
  for (size_t i = 0; i < campaigns.size(); ++i) {
    EXPECT_EQ(doc["items"][i]["id"], campaigns[i]);
    EXPECT_EQ(doc["items"][i]["advertiser_id"], advertiser);
  }
  auto active = run({"--json", "campaigns", "--advertiser", std::to_string(advertiser), "--status",
                     "ACTIVE"});
  ASSERT_EQ(active.status, 0) << describe(active);
  auto a = json::parse(active.out, nullptr, false);
  ASSERT_EQ(a["items"].size(), 1u) << active.out;
  EXPECT_EQ(a["items"][0]["id"], campaigns[1]);
}

TEST_F(Adctl, AdvertisersThroughFlagsAndThroughTheEnvironment) {
  auto name = "AdctlAdv " + unique_suffix();
  auto advertiser = create_advertiser(*server, name, 4321);
  auto r = run({"advertisers", "--limit", "500"});
  ASSERT_EQ(r.status, 0) << describe(r);
  auto rows = lines_with(r.out, name);
  ASSERT_EQ(rows.size(), 1u) << r.out.substr(0, 2000);
  EXPECT_NE(rows[0].find(std::to_string(advertiser)), std::string::npos);
  EXPECT_NE(rows[0].find("4321"), std::string::npos);
  EXPECT_EQ(lines_with(r.out, "BUSINESS_NUMBER").size(), 1u);

  auto env = adctl({"--json", "advertisers", "--status", "ACTIVE", "--limit", "500"},
                   {{"ADSERVER_URL", url()}, {"ADSERVER_TOKEN", server->admin_token()}});
  ASSERT_EQ(env.status, 0) << describe(env).substr(0, 2000);
  auto doc = json::parse(env.out, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  bool found = false;
  for (auto& item : doc["items"]) {
    EXPECT_EQ(item["activated"], 1);
    found = found || item["id"] == advertiser;
  }
  EXPECT_TRUE(found);
}

// -- events ----------------------------------------------------------------------

TEST_F(Adctl, EventsTailPrintsAnAdEventAsOneJsonLine) {
  auto term = "adctlterm" + unique_suffix();
  auto c = active_search_campaign(*server, term);
  auto device = test_uuid("e000", 1);
  auto ad = server->call("POST", "/api/v1/ads/request",
                         json{{"device_id", device}, {"session_id", "adctl-s1"},
                              {"placement", "SEARCH"}, {"search_term", term}}
                           .dump());
  ASSERT_EQ(ad.status, 200) << ad.body;
  ASSERT_FALSE(ad.json["ads"].empty()) << ad.body;
  auto imp = server->call("POST", "/api/v1/ads/impression",
                          json{{"token", ad.json["ads"][0]["token"]}, {"device_id", device},
                               {"session_id", "adctl-s1"}}
                            .dump());
  ASSERT_EQ(imp.status, 200) << imp.body;
  ASSERT_FALSE(server->kafka_bootstrap().empty());
  auto r = adctl({"events", "tail", "ad-events", "--from-beginning", "--max", "1", "--brokers",
                  server->kafka_bootstrap()},
                 {}, std::chrono::seconds(30));
  ASSERT_EQ(r.status, 0) << describe(r);
  ASSERT_EQ(line_count(r.out), 1u) << r.out;
  auto event = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(event.is_object()) << r.out;
  EXPECT_TRUE(event.contains("event_type")) << r.out;
  // The brokers may come from the environment instead.
  auto env = adctl({"events", "tail", "ad-events", "--from-beginning", "--max", "1"},
                   {{"ADSERVER_BROKERS", server->kafka_bootstrap()}});
  EXPECT_EQ(env.status, 0) << describe(env);
  EXPECT_EQ(line_count(env.out), 1u) << env.out;
  // ... or from the node itself (its realtime view names them).
  auto from_node = run({"events", "tail", "ad-events", "--from-beginning", "--max", "1"});
  EXPECT_EQ(from_node.status, 0) << describe(from_node);
  EXPECT_EQ(line_count(from_node.out), 1u) << from_node.out;
  (void)c;
}

TEST_F(Adctl, EventsTailStopsCleanlyOnInterrupt) {
  // Follows the end of campaign-events (nothing new arrives), then Ctrl-C.
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(out_pipe[0]);
    close(out_pipe[1]);
    auto brokers = server->kafka_bootstrap();
    execl(ADCTL_BIN, ADCTL_BIN, "events", "tail", "campaign-events", "--brokers", brokers.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ::kill(pid, SIGINT);
  int status = 0;
  for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "adctl events tail did not stop within 5 s of SIGINT";
  }
  close(out_pipe[0]);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(Adctl, EventsTailWithUnreachableBrokersExitsOne) {
  auto r = adctl({"events", "tail", "ad-events", "--brokers", "127.0.0.1:" + std::to_string(closed_port()),
                  "--max", "1"});
  EXPECT_EQ(r.status, 1) << describe(r);
  EXPECT_EQ(line_count(r.err), 1u) << describe(r);
  EXPECT_NE(r.err.find("cannot reach Kafka"), std::string::npos) << describe(r);
}

TEST_F(Adctl, EventsTailTimeoutEndsFollowingWithExitZero) {
  ASSERT_FALSE(server->kafka_bootstrap().empty());
  // From the end of campaign-events: whether or not anything arrives, it
  // stops after --timeout, and that is a success.
  auto r = adctl({"events", "tail", "campaign-events", "--brokers", server->kafka_bootstrap(),
                  "--timeout", "2"});
  EXPECT_EQ(r.status, 0) << describe(r);
  size_t start = 0;
  while (start < r.out.size()) {
    auto end = r.out.find('\n', start);
    ASSERT_NE(end, std::string::npos) << r.out;
    EXPECT_FALSE(json::parse(r.out.substr(start, end - start), nullptr, false).is_discarded())
      << r.out;
    start = end + 1;
  }
  // With --max as well, whichever comes first ends it.
  auto both = adctl({"events", "tail", "campaign-events", "--brokers", server->kafka_bootstrap(),
                     "--timeout", "1", "--max", "1000"});
  EXPECT_EQ(both.status, 0) << describe(both);
}

// -- inspection (issue 9's monitoring, inspection and integrity endpoints) --------

TEST_F(AdctlInspect, StatusShowsTheNodeAndItsReadiness) {
  auto r = run({"status"});
  ASSERT_EQ(r.status, 0) << describe(r);
  for (auto* field : {"node", "version", "started", "readiness", "requests"})
    EXPECT_EQ(lines_with(r.out, field).size() >= 1, true) << field << "\n" << r.out;
  EXPECT_EQ(lines_with(r.out, "readiness")[0].find("ready") != std::string::npos, true) << r.out;
  auto j = run({"--json", "status"});
  ASSERT_EQ(j.status, 0) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << j.out;
  for (auto* key : {"node", "version", "build", "started_at", "uptime_seconds", "ready", "requests",
                    "routes", "business", "totals", "actors", "io", "integrity"})
    EXPECT_TRUE(doc.contains(key)) << key << "\n" << j.out;
  EXPECT_EQ(doc["ready"], true);
  auto raw = server->admin("GET", "/admin/v1/monitoring/realtime");
  EXPECT_FALSE(raw.header("X-Request-Id").empty()) << raw.raw_headers;
  auto refused = adctl({"--url", url(), "--token", "not-the-admin-token-0123", "status"});
  EXPECT_EQ(refused.status, 1) << describe(refused);
  EXPECT_EQ(refused.err, "adctl: the node refused the admin token (401 UNAUTHORIZED)\n")
    << describe(refused);
}

TEST_F(AdctlInspect, StatusExitsZeroOnAReadyNode) {
  // Exit 1 is for a node that is not ready (/readyz 503); this one is.
  ASSERT_EQ(server->call("GET", "/readyz").status, 200);
  auto r = run({"status"});
  EXPECT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.err, "");
  auto j = run({"--json", "status"});
  EXPECT_EQ(j.status, 0) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << j.out;
  EXPECT_EQ(doc["readyz"]["status"] == "ready" || doc["readyz"]["status"] == "degraded", true)
    << j.out;
}

TEST_F(AdctlInspect, TopOncePrintsOneFrameWithoutEscapes) {
  ASSERT_EQ(run({"status"}).status, 0);  // a route with traffic in the window
  auto r = run({"top", "--once"});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(lines_with(r.out, "P99_MS").size(), 1u) << r.out;
  EXPECT_EQ(lines_with(r.out, "MAILBOX").size(), 1u) << r.out;
  EXPECT_FALSE(lines_with(r.out, "/admin/v1/monitoring/realtime").empty()) << r.out;
  EXPECT_FALSE(lines_with(r.out, "queues").empty()) << r.out;
  auto j = run({"--json", "top", "--once"});
  ASSERT_EQ(j.status, 0) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << j.out;
  EXPECT_TRUE(doc["routes"].is_array());
}

TEST_F(AdctlInspect, NodesAndWhereNameTheOwningNode) {
  auto advertiser = create_advertiser(*server, "AdctlWhere " + unique_suffix(), 500);
  auto campaign = create_campaign(*server, advertiser, "adctl-where-c");
  // The ledger activates (and takes its lease) on its first use.
  ASSERT_EQ(server->admin("GET", "/admin/v1/advertisers/" + std::to_string(advertiser) + "/balance")
              .status,
            200);
  auto nodes = run({"--json", "nodes"});
  ASSERT_EQ(nodes.status, 0) << describe(nodes);
  auto doc = json::parse(nodes.out, nullptr, false);
  auto self = doc.value("node", "");
  ASSERT_FALSE(self.empty()) << nodes.out;
  EXPECT_EQ(doc["clustered"], false);
  bool listed = false;
  for (auto& n : doc["nodes"])
    if (n["node"] == self) {
      listed = true;
      EXPECT_EQ(n["live"], true) << nodes.out;
      EXPECT_EQ(n["placed"], true) << nodes.out;
      EXPECT_GE(n["ledger_leases"].get<int64_t>(), 1) << nodes.out;
    }
  EXPECT_TRUE(listed) << nodes.out;
  auto table = run({"nodes"});
  ASSERT_EQ(table.status, 0) << describe(table);
  EXPECT_FALSE(lines_with(table.out, self + " *").empty()) << table.out;

  auto where = run({"--json", "where", "campaign", std::to_string(campaign)});
  ASSERT_EQ(where.status, 0) << describe(where);
  auto w = json::parse(where.out, nullptr, false);
  EXPECT_EQ(w["node"], self) << where.out;
  EXPECT_EQ(w["advertiser_id"], advertiser) << where.out;
  EXPECT_EQ(w["lease_node"], self) << where.out;
  auto text = run({"where", "advertiser", std::to_string(advertiser)});
  ASSERT_EQ(text.status, 0) << describe(text);
  EXPECT_FALSE(lines_with(text.out, self).empty()) << text.out;
  auto session = run({"where", "session", "s-1"});
  ASSERT_EQ(session.status, 0) << describe(session);
  EXPECT_FALSE(lines_with(session.out, self).empty()) << session.out;  // the owner
  EXPECT_EQ(run({"where", "campaign", "999999999"}).status, 1);  // no such campaign
  EXPECT_EQ(run({"where", "planet", "1"}).status, 2);
  EXPECT_EQ(run({"where", "advertiser", "x"}).status, 2);
}

TEST_F(AdctlInspect, LedgerAndCampaignShowTheirActors) {
  auto name = "AdctlLedger " + unique_suffix();
  auto advertiser = create_advertiser(*server, name, 12345);
  auto campaign = create_campaign(*server, advertiser, "adctl-ledger-c");
  auto r = run({"ledger", std::to_string(advertiser)});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_FALSE(lines_with(r.out, name).empty()) << r.out;
  EXPECT_FALSE(lines_with(r.out, "12345").empty()) << r.out;
  EXPECT_FALSE(lines_with(r.out, "advertiser-ledger").empty()) << r.out;
  auto j = run({"--json", "ledger", std::to_string(advertiser)});
  ASSERT_EQ(j.status, 0) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  EXPECT_EQ(doc["advertiser"]["id"], advertiser) << j.out;
  EXPECT_EQ(doc["advertiser"]["balance"], 12345) << j.out;
  EXPECT_TRUE(doc["status"].is_object()) << j.out;
  ASSERT_TRUE(doc["campaigns"].is_array()) << j.out;

  auto c = run({"campaign", std::to_string(campaign)});
  ASSERT_EQ(c.status, 0) << describe(c);
  EXPECT_FALSE(lines_with(c.out, "adctl-ledger-c").empty()) << c.out;
  auto cj = run({"--json", "campaign", std::to_string(campaign)});
  ASSERT_EQ(cj.status, 0) << describe(cj);
  auto cdoc = json::parse(cj.out, nullptr, false);
  EXPECT_EQ(cdoc["campaign"]["id"], campaign) << cj.out;
  EXPECT_TRUE(cdoc["status"].is_object()) << cj.out;
}

TEST_F(AdctlInspect, AuctionRanksTheCandidates) {
  auto term = "adctlauction" + unique_suffix();
  auto c = active_search_campaign(*server, term);
  // Serve once so the auction exists whether or not inspection activates it.
  server->call("POST", "/api/v1/ads/request",
               json{{"device_id", test_uuid("e000", 2)}, {"session_id", "adctl-s2"},
                    {"placement", "SEARCH"}, {"search_term", term}}
                 .dump());
  auto r = run({"auction", "SEARCH", term});
  ASSERT_EQ(r.status, 0) << describe(r);
  ASSERT_EQ(lines_with(r.out, "RANK").size(), 1u) << r.out;
  auto rows = lines_with(r.out, " " + std::to_string(c.campaign) + " ");
  EXPECT_FALSE(rows.empty()) << r.out;
  auto j = run({"--json", "auction", "SEARCH", term});
  ASSERT_EQ(j.status, 0) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  ASSERT_FALSE(doc["candidates"].empty()) << j.out;
  EXPECT_EQ(doc["candidates"][0]["rank"], 1);
  EXPECT_EQ(doc["candidates"][0]["campaign_id"], c.campaign);
  auto home = run({"auction", "HOME"});
  EXPECT_EQ(home.status, 0) << describe(home);
}

TEST_F(AdctlInspect, SessionShowsItsExperimentCodes) {
  auto term = "adctlsession" + unique_suffix();
  auto c = active_search_campaign(*server, term);
  auto campaign = server->admin("GET", "/admin/v1/campaigns/" + std::to_string(c.campaign));
  std::string product = campaign.json["product_id"];
  auto key = "adctl_" + unique_suffix();
  ASSERT_EQ(server->admin("POST", "/admin/v1/experiments/mappings",
                          json{{"exp_key", key},
                               {"exp_var", "B"},
                               {"original_product_id", product},
                               {"experiment_product_id", product + "_SALE"},
                               {"start_date", "2026-01-01"},
                               {"end_date", "2099-12-31"}}
                            .dump())
              .status,
            201);
  auto session = "adctl-session-" + unique_suffix();
  auto ad = server->call("POST", "/api/v1/ads/request",
                         json{{"device_id", test_uuid("e000", 3)}, {"session_id", session},
                              {"placement", "SEARCH"}, {"search_term", term},
                              {"exp_key", key}, {"exp_var", "B"}}
                           .dump());
  ASSERT_EQ(ad.status, 200) << ad.body;
  auto r = run({"session", session});
  ASSERT_EQ(r.status, 0) << describe(r);
  auto rows = lines_with(r.out, key);
  ASSERT_EQ(rows.size(), 1u) << r.out;
  EXPECT_NE(rows[0].find(product + "_SALE"), std::string::npos) << r.out;
  auto j = run({"--json", "session", session});
  ASSERT_EQ(j.status, 0) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  EXPECT_EQ(doc["session_id"], session);
  ASSERT_EQ(doc["codes"].size(), 1u) << j.out;
  EXPECT_EQ(doc["codes"][0]["exp_key"], key);
  auto none = run({"session", "adctl-no-such-session-" + unique_suffix()});
  EXPECT_EQ(none.status, 1) << describe(none);
  EXPECT_NE(none.err.find("404"), std::string::npos) << describe(none);
}

TEST_F(AdctlInspect, ActorsListsKindsWithCounts) {
  auto r = run({"actors"});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(lines_with(r.out, "MAILBOX").size(), 1u) << r.out;
  EXPECT_EQ(lines_with(r.out, "SERVICE").size(), 1u) << r.out;
  // A kind, and two services: the serving writer and the counters' writer.
  EXPECT_EQ(lines_with(r.out, "pg-writer ").size(), 3u) << r.out;
  EXPECT_GE(line_count(r.out), 3u) << r.out;  // node, header, at least one kind
  auto j = run({"--json", "actors"});
  ASSERT_EQ(j.status, 0) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  EXPECT_TRUE(doc.contains("node")) << j.out;
  ASSERT_TRUE(doc["actors"].is_array()) << j.out;
  EXPECT_FALSE(doc["actors"].empty());
  for (auto& a : doc["actors"]) {
    EXPECT_TRUE(a.contains("kind"));
    EXPECT_TRUE(a.contains("count"));
    EXPECT_TRUE(a.contains("mailbox"));
  }
}

TEST_F(AdctlInspect, ReconcileExitsOneNamingAPlantedDifference) {
  auto advertiser = create_advertiser(*server, "AdctlReconcile " + unique_suffix(), 8000);
  auto id = std::to_string(advertiser);
  // Activate the ledger; its Redis mirror is written shortly after.
  ASSERT_EQ(server->admin("GET", "/admin/v1/advertisers/" + id).status, 200);
  run_result r;
  for (int i = 0; i < 50; ++i) {
    r = run({"reconcile", id});
    if (r.status == 0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_NE(r.out.find("consistent"), std::string::npos) << r.out;

  auto key = "balance:" + id;
  auto original = redis_cli("GET " + key);
  ASSERT_EQ(redis_cli("SET " + key + " 1"), "OK");
  auto bad = run({"reconcile", id});
  auto bad_json = run({"--json", "reconcile", id});
  // Put the mirror back before asserting: other tests share the database.
  if (original.empty() || original == "(nil)")
    redis_cli("DEL " + key);
  else
    redis_cli("SET " + key + " " + original);
  EXPECT_EQ(bad.status, 1) << describe(bad);
  auto rows = lines_with(bad.out, key);
  ASSERT_EQ(rows.size(), 1u) << bad.out;
  EXPECT_EQ(bad_json.status, 1) << describe(bad_json);
  auto doc = json::parse(bad_json.out, nullptr, false);
  EXPECT_EQ(doc["consistent"], false) << bad_json.out;
  ASSERT_FALSE(doc["differences"].empty()) << bad_json.out;
  EXPECT_EQ(doc["differences"][0]["key"], key);
  EXPECT_EQ(doc["differences"][0]["redis"], "1");
  EXPECT_EQ(run({"reconcile", id}).status, 0);
}

/// A database of its own for one test, migrated, with advertiser and campaign
/// ids far above the shared database's (the Redis mirror is shared and keyed
/// by id). The integrity report samples the first rows by id, so only a
/// database without other tests' leftovers lets it name a given campaign.
class scratch_database {
public:
  scratch_database() : name_("adctl_scratch_" + unique_suffix()) {
    sql_one("CREATE DATABASE " + name_);
    conninfo_ = test_pg_conninfo() + " dbname=" + name_;
    auto migrate = std::string{ADSERVER_BIN} + " --migrate-only '--postgres.conninfo=" + conninfo_
                   + "' > /dev/null 2>&1";
    migrated_ = std::system(migrate.c_str()) == 0;
    auto base = std::to_string(5'000'000'000'000'000 + (time(nullptr) % 1'000'000) * 1000);
    for (auto* table : {"ad_advertisers", "ad_campaigns"})
      run("SELECT setval(pg_get_serial_sequence('" + std::string{table} + "', 'id'), " + base
          + ")");
  }
  ~scratch_database() { sql_one("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); }
  bool migrated() const { return migrated_; }
  const std::string& conninfo() const { return conninfo_; }
  /// The first column of the first row of `query` on this database.
  std::string run(const std::string& query) const {
    PGconn* c = PQconnectdb(conninfo_.c_str());
    PGresult* r = PQexec(c, query.c_str());
    std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    PQfinish(c);
    return out;
  }

private:
  std::string name_;
  std::string conninfo_;
  bool migrated_ = false;
};

TEST_F(AdctlInspect, IntegrityExitsOneNamingAnOrphanedCampaignAndZeroWhenClean) {
  scratch_database db;
  ASSERT_TRUE(db.migrated());
  server_process s({{"postgres.conninfo", db.conninfo()}});
  ASSERT_TRUE(s.start()) << s.output();
  auto with = [&s](std::vector<std::string> args) { return adctl(node_args(s, std::move(args))); };
  auto advertiser = create_advertiser(s, "AdctlIntegrity", 1000);
  auto campaign = create_campaign(s, advertiser, "adctl-orphan");
  auto id = std::to_string(advertiser);

  auto never_run = with({"integrity"});
  EXPECT_EQ(never_run.status, 1) << describe(never_run);
  EXPECT_NE(never_run.err.find("integrity --run"), std::string::npos) << describe(never_run);
  auto clean = with({"integrity", "--run"});
  EXPECT_EQ(clean.status, 0) << describe(clean);

  // Soft-delete the advertiser behind the server's back: its campaign is an orphan.
  db.run("UPDATE ad_advertisers SET activated = 0 WHERE id = " + id);
  auto r = with({"integrity", "--run"});
  EXPECT_EQ(r.status, 1) << describe(r);
  auto rows = lines_with(r.out, " " + std::to_string(campaign) + " ");
  ASSERT_EQ(rows.size(), 1u) << r.out;
  EXPECT_NE(rows[0].find("ad_campaigns"), std::string::npos) << r.out;
  EXPECT_NE(rows[0].find("campaigns_of_inactive_advertiser"), std::string::npos) << r.out;
  // Without --run: the last report, the same finding.
  auto last = with({"integrity"});
  EXPECT_EQ(last.status, 1) << describe(last);
  EXPECT_EQ(lines_with(last.out, " " + std::to_string(campaign) + " ").size(), 1u) << last.out;
  auto j = with({"--json", "integrity"});
  ASSERT_EQ(j.status, 1) << describe(j);
  auto doc = json::parse(j.out, nullptr, false);
  EXPECT_EQ(doc.value("findings_total", 0), 1) << j.out;
  bool named = false;
  for (auto& check : doc["checks"])
    for (auto& sample : check["samples"])
      named = named || (sample["table"] == "ad_campaigns" && sample["id"] == campaign);
  EXPECT_TRUE(named) << j.out;

  db.run("UPDATE ad_advertisers SET activated = 1 WHERE id = " + id);
  auto repaired = with({"integrity", "--run"});
  EXPECT_EQ(repaired.status, 0) << describe(repaired);
  s.stop();
  redis_cli("DEL balance:" + id);  // the shared mirror keeps no trace of this database
}

TEST_F(AdctlInspect, IntegrityRunExitsAsItsReportSays) {
  // Whatever the shared database holds: the exit status follows the report
  // of the run (1 with findings or a check that could not run, else 0).
  // A run over the whole shared database may take a while: more time than run() gives.
  const auto time = std::chrono::seconds(120);
  auto j = adctl(with_node({"--json", "integrity", "--run"}), {}, time);
  auto doc = json::parse(j.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << describe(j);
  ASSERT_TRUE(doc["started_at"].is_string()) << j.out;
  ASSERT_TRUE(doc["finished_at"].is_string()) << j.out;
  ASSERT_TRUE(doc["checks"].is_array()) << j.out;
  ASSERT_FALSE(doc["checks"].empty()) << j.out;
  int64_t findings = doc.value("findings_total", int64_t{0});
  size_t failed = 0;
  for (auto& check : doc["checks"])
    if (check.contains("error"))
      ++failed;
  EXPECT_EQ(j.status, findings > 0 || failed > 0 ? 1 : 0) << describe(j);

  auto t = adctl(with_node({"integrity", "--run"}), {}, time);
  ASSERT_TRUE(t.status == 0 || t.status == 1) << describe(t);
  auto shown_findings = field_value(t.out, "findings");
  auto shown_failed = field_value(t.out, "failed checks");
  ASSERT_FALSE(shown_findings.empty()) << t.out;
  ASSERT_FALSE(shown_failed.empty()) << t.out;
  EXPECT_EQ(t.status, shown_findings != "0" || shown_failed != "0" ? 1 : 0) << describe(t);
  EXPECT_EQ(lines_with(t.out, "ERROR").size(), 1u) << t.out;  // CHECK  COUNT  ERROR
}

/// An ACCESS EXCLUSIVE lock on a table, held in an open transaction until
/// released (or destroyed): every read of the table waits for it.
class table_lock {
public:
  table_lock(const std::string& conninfo, const std::string& table)
    : conn_(PQconnectdb(conninfo.c_str())) {
    held_ = exec("BEGIN") && exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
  }
  ~table_lock() {
    release();
    PQfinish(conn_);
  }
  table_lock(const table_lock&) = delete;
  table_lock& operator=(const table_lock&) = delete;
  bool held() const { return held_; }
  void release() {
    if (held_)
      exec("COMMIT");
    held_ = false;
  }

private:
  bool exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
  }
  PGconn* conn_;
  bool held_ = false;
};

TEST_F(AdctlInspect, IntegrityRunWaitsForARunThatOutlastsItsRequest) {
  scratch_database db;
  ASSERT_TRUE(db.migrated());
  // /admin answered within 1 s: POST /admin/v1/integrity/check waits for the
  // run about half of it, then answers 202 while the run goes on. No
  // scheduled run: every run here is one adctl started.
  server_process s({{"postgres.conninfo", db.conninfo()},
                    {"http.admin_deadline_ms", "1000"},
                    {"integrity.interval_seconds", "0"}});
  ASSERT_TRUE(s.start()) << s.output();
  auto with = [&s](std::vector<std::string> args) { return adctl(node_args(s, std::move(args))); };
  // The first check reads ad_campaigns: while it is locked no run finishes.
  table_lock lock(db.conninfo(), "ad_campaigns");
  ASSERT_TRUE(lock.held());

  // --wait bounds the wait: one line, exit 1; the run goes on.
  auto short_wait = with({"integrity", "--run", "--wait", "1"});
  EXPECT_EQ(short_wait.status, 1) << describe(short_wait);
  EXPECT_EQ(line_count(short_wait.err), 1u) << describe(short_wait);
  EXPECT_NE(short_wait.err.find("did not finish within 1 s"), std::string::npos)
    << describe(short_wait);
  EXPECT_EQ(short_wait.out, "");

  // Without a bound adctl waits for the run (it joins the one under way) and
  // prints its report once the lock is gone. Released after the POST has had
  // its 202, or before: the outcome is the same.
  run_result waited;
  std::thread waiter([&] { waited = with({"--json", "integrity", "--run"}); });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto meanwhile = s.admin("GET", "/admin/v1/integrity");
  lock.release();
  waiter.join();
  EXPECT_EQ(meanwhile.status, 404) << meanwhile.body;  // the first run is not over
  ASSERT_EQ(waited.status, 0) << describe(waited);
  EXPECT_EQ(waited.err, "") << describe(waited);
  auto doc = json::parse(waited.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << waited.out;
  ASSERT_TRUE(doc["started_at"].is_string()) << waited.out;
  EXPECT_EQ(doc.value("findings_total", int64_t{-1}), 0) << waited.out;
  ASSERT_FALSE(doc["checks"].empty()) << waited.out;
  for (auto& check : doc["checks"])
    EXPECT_FALSE(check.contains("error")) << waited.out;

  // The node's last report is that run.
  auto last = with({"--json", "integrity"});
  EXPECT_EQ(last.status, 0) << describe(last);
  auto last_doc = json::parse(last.out, nullptr, false);
  ASSERT_TRUE(last_doc.is_object()) << last.out;
  EXPECT_EQ(last_doc["started_at"], doc["started_at"]) << last.out;
  s.stop();
}

}  // namespace
