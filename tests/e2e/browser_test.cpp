// The web dashboard (GET /dashboard, web/dashboard.html) in a real browser:
// headless Chromium driven through chromedriver's W3C WebDriver HTTP API,
// against the real server, PostgreSQL and Redis. A click sent through the ad
// API shows up in the page's live feed and counters within 2 s; a dropped
// event stream resumes after the last event id, showing what came meanwhile
// exactly once.
//
// Chromium and chromedriver are Debian packages tools/setup installs
// (chromium, chromium-driver); without them this test fails, it never skips.
#include "tests/support/server_process.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

using namespace adserver::testing;
using nlohmann::json;

namespace {

constexpr const char* chromium_path = "/usr/bin/chromium";
constexpr const char* chromedriver_path = "/usr/bin/chromedriver";
/// W3C WebDriver's key of an element reference.
constexpr const char* element_key = "element-6066-11e4-a52e-4f735466cecf";

std::string uuid(int i) {
  return test_uuid("8b00", i);
}

bool executable(const char* path) {
  return access(path, X_OK) == 0;
}

/// A TCP port nothing listens on right now.
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
      && getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

std::string base64_decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string out;
  int bits = 0;
  uint32_t acc = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0)
      continue;  // '=' padding, line breaks
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

/// chromedriver as a child process (its own process group, so the Chromium
/// it starts goes with it) and one WebDriver session.
class browser {
public:
  browser() = default;
  browser(const browser&) = delete;
  browser& operator=(const browser&) = delete;
  ~browser() { quit(); }

  /// Starts chromedriver and a headless Chromium session; "" or why not.
  std::string start() {
    std::string why;
    for (int attempt = 0; attempt < 3; ++attempt) {  // the free port may be taken meanwhile
      why = start_driver();
      if (why.empty())
        break;
      stop_driver();
    }
    if (!why.empty())
      return why;
    json caps = {
      {"capabilities",
       {{"alwaysMatch",
         {{"browserName", "chrome"},
          {"goog:chromeOptions",
           {{"binary", chromium_path},
            {"args",
             {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1000", "--no-first-run", "--no-default-browser-check",
              "--disable-extensions", "--force-device-scale-factor=1"}}}}}}}}};
    auto r = http_call(driver_port_, "POST", "/session", caps.dump());
    if (r.status != 200 || !r.json.is_object() || !r.json["value"].contains("sessionId"))
      return "chromedriver did not create a session (HTTP " + std::to_string(r.status)
             + "): " + r.body.substr(0, 2000) + "\nchromedriver log: " + log_tail();
    session_ = r.json["value"]["sessionId"].get<std::string>();
    return {};
  }

  /// One WebDriver command on the session; its "value" (null and a test
  /// failure on an error answer).
  json command(const std::string& method, const std::string& path, const json& body = json::object()) {
    auto r = http_call(driver_port_, method, "/session/" + session_ + path,
                       method == "GET" || method == "DELETE" ? "" : body.dump());
    if (r.status != 200) {
      ADD_FAILURE() << "WebDriver " << method << " " << path << " -> HTTP " << r.status << ": "
                    << r.body.substr(0, 2000);
      return nullptr;
    }
    return r.json.is_object() && r.json.contains("value") ? r.json["value"] : json(nullptr);
  }

  void navigate(const std::string& url) { command("POST", "/url", {{"url", url}}); }

  /// The first element matching a CSS selector ("" when none).
  std::string find(const std::string& css) {
    auto r = http_call(driver_port_, "POST", "/session/" + session_ + "/element",
                       json{{"using", "css selector"}, {"value", css}}.dump());
    if (r.status != 200 || !r.json.is_object() || !r.json["value"].is_object()
        || !r.json["value"].contains(element_key))
      return {};
    return r.json["value"][element_key].get<std::string>();
  }

  void click(const std::string& element) { command("POST", "/element/" + element + "/click"); }
  void type(const std::string& element, const std::string& text) {
    command("POST", "/element/" + element + "/value", {{"text", text}});
  }

  /// Runs `body` as a function in the page; what it returns.
  json script(const std::string& body, const json& args = json::array()) {
    return command("POST", "/execute/sync", {{"script", body}, {"args", args}});
  }

  /// Polls `body` every `every` until it returns true or `limit` passed.
  bool wait_for(const std::string& body, std::chrono::milliseconds limit,
                std::chrono::milliseconds every = std::chrono::milliseconds(100)) {
    auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (script(body) == true)
        return true;
      if (std::chrono::steady_clock::now() >= until)
        return false;
      std::this_thread::sleep_for(every);
    }
  }

  /// The viewport as PNG bytes.
  std::string screenshot() {
    auto v = command("GET", "/screenshot");
    return v.is_string() ? base64_decode(v.get<std::string>()) : std::string{};
  }

  /// What the page shows and knows, for failure messages.
  std::string debug() {
    auto v = script(
      "return JSON.stringify({state: window.dashboard ? window.dashboard.state() : null,"
      " message: (document.getElementById('message') || {}).textContent,"
      " text: document.body ? document.body.innerText.slice(0, 3000) : ''});");
    return v.is_string() ? v.get<std::string>() : v.dump();
  }

  /// Ends the session (Chromium exits) and chromedriver.
  void quit() {
    if (!session_.empty()) {
      http_call(driver_port_, "DELETE", "/session/" + session_);
      session_.clear();
    }
    stop_driver();
  }

private:
  std::string start_driver() {
    driver_port_ = free_port();
    if (driver_port_ == 0)
      return "no free port for chromedriver";
    log_path_ = std::filesystem::absolute("chromedriver.log").string();
    pid_ = fork();
    if (pid_ < 0)
      return "fork failed";
    if (pid_ == 0) {
      setpgid(0, 0);
      int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      auto port = "--port=" + std::to_string(driver_port_);
      execl(chromedriver_path, chromedriver_path, port.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(pid_, pid_);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "chromedriver exited at start: " + log_tail();
      }
      auto r = http_call(driver_port_, "GET", "/status");
      if (r.status == 200 && r.json.is_object() && r.json["value"].value("ready", false))
        return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "chromedriver did not answer /status within 10 s: " + log_tail();
  }

  void stop_driver() {
    if (pid_ <= 0)
      return;
    ::kill(-pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  std::string log_tail() const {
    std::ifstream in(log_path_);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
  }

  pid_t pid_ = -1;
  int driver_port_ = 0;
  std::string session_;
  std::string log_path_;
};

/// An ad for `device` on `term`: its tracking token ("" when none).
std::string request_ad(const server_process& s, int device, const std::string& session,
                       const std::string& term) {
  auto r = s.call("POST", "/api/v1/ads/request",
                  json{{"device_id", uuid(device)}, {"session_id", session},
                       {"placement", "SEARCH"}, {"search_term", term}}
                    .dump());
  EXPECT_EQ(r.status, 200) << r.body;
  if (!r.json.is_object() || !r.json["ads"].is_array() || r.json["ads"].empty()) {
    ADD_FAILURE() << "no ad for " << term << ": " << r.body;
    return {};
  }
  return r.json["ads"][0].value("token", std::string{});
}

http_result track(const server_process& s, const std::string& what, const std::string& token,
                  int device, const std::string& session) {
  return s.call("POST", "/api/v1/ads/" + what,
                json{{"token", token}, {"device_id", uuid(device)}, {"session_id", session}}.dump());
}

// What the page shows, read by the test's scripts.
constexpr const char* read_counter_js =
  "function counter(id) {"
  "  var t = (document.getElementById(id) || {}).textContent || '';"
  "  var digits = t.replace(/[^0-9]/g, '');"
  "  return digits === '' ? -1 : parseInt(digits, 10);"
  "}";

/// The viewport as a PNG in the test's working directory (the build tree).
void write_screenshot(browser& b, const std::string& name) {
  auto png = b.screenshot();
  auto path = std::filesystem::absolute(name);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(png.data(), static_cast<std::streamsize>(png.size()));
  }
  EXPECT_GT(png.size(), 1000u);
  EXPECT_EQ(png.rfind("\x89PNG", 0), 0u);
  std::cout << "dashboard screenshot: " << path.string() << std::endl;
}

TEST(Browser, DashboardShowsLiveEventsAndResumesAfterADroppedStream) {
  ASSERT_TRUE(executable(chromium_path))
    << chromium_path << " is missing: tools/setup installs the Debian packages chromium and "
    << "chromium-driver (apt-get install chromium chromium-driver)";
  ASSERT_TRUE(executable(chromedriver_path))
    << chromedriver_path << " is missing: tools/setup installs the Debian packages chromium and "
    << "chromium-driver (apt-get install chromium chromium-driver)";

  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto term = "browser" + unique_suffix();
  auto c = active_search_campaign(s, term);
  ASSERT_GT(c.campaign, 0);
  auto campaign = std::to_string(c.campaign);

  // The page itself: open, HTML, locked down.
  auto page = s.call("GET", "/dashboard");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.header("Cache-Control"), "no-cache");
  EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_NE(page.body.find("id=\"feed-status\""), std::string::npos);

  auto issued = s.admin("POST", "/admin/v1/advertisers/" + std::to_string(c.advertiser) + "/api-keys");
  ASSERT_EQ(issued.status, 201) << issued.body;
  std::string key = issued.json.value("api_key", std::string{});
  ASSERT_EQ(key.rfind("ak_", 0), 0u) << issued.body;

  browser b;
  auto why = b.start();
  ASSERT_EQ(why, "");

  // Sign in with the advertiser's key and open its campaign.
  b.navigate("http://127.0.0.1:" + std::to_string(s.port()) + "/dashboard");
  auto key_input = b.find("#key");
  ASSERT_NE(key_input, "") << b.debug();
  b.type(key_input, key);
  b.click(b.find("#sign-in"));
  auto entry = "#campaigns [data-campaign-id=\"" + campaign + "\"]";
  ASSERT_TRUE(b.wait_for("return !!document.querySelector('" + entry + "');",
                         std::chrono::seconds(10)))
    << b.debug();
  b.click(b.find(entry));
  ASSERT_TRUE(b.wait_for(
    "return document.getElementById('feed-status').textContent.trim() === 'live';",
    std::chrono::seconds(10)))
    << b.debug();

  // An ad, its impression and a click through the API...
  const std::string session = "browser-session-1";
  auto token = request_ad(s, 1, session, term);
  ASSERT_NE(token, "");
  auto impression = track(s, "impression", token, 1, session);
  ASSERT_EQ(impression.status, 200) << impression.body;
  auto clicked_at = std::chrono::steady_clock::now();
  auto click = track(s, "click", token, 1, session);
  ASSERT_EQ(click.status, 200) << click.body;

  // ... are in the feed and the counters within 2 s, without a reload.
  auto shown = std::string(read_counter_js)
               + "return !!document.querySelector('#feed .feed-item[data-event-name=\"CLICK\"]')"
                 " && counter('summary-clicks') >= 1 && counter('summary-impressions') >= 1;";
  bool live = b.wait_for(shown, std::chrono::milliseconds(2000)
                                  - std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - clicked_at));
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - clicked_at);

  // The screenshot, whatever the outcome: the build directory's record of the page.
  write_screenshot(b, "dashboard-screenshot.png");

  ASSERT_TRUE(live) << "the click was not shown within 2 s: " << b.debug();
  std::cout << "click shown " << waited.count() << " ms after it was sent" << std::endl;
  auto first_click = b.script(
    "return document.querySelector('#feed .feed-item[data-event-name=\"CLICK\"]')"
    ".getAttribute('data-event-id');");
  ASSERT_TRUE(first_click.is_string()) << b.debug();
  auto seen = b.script("return window.dashboard.state();");
  EXPECT_EQ(seen["lastEventId"], first_click);
  EXPECT_EQ(seen["connects"], 1);

  // Drop the stream; a click arrives while the page is disconnected.
  ASSERT_EQ(b.script("return window.dashboard.dropStream(3000);"), true);
  EXPECT_NE(b.script("return document.getElementById('feed-status').textContent.trim();"), "live");
  auto token2 = request_ad(s, 2, "browser-session-2", term);
  ASSERT_NE(token2, "");
  auto click2 = track(s, "click", token2, 2, "browser-session-2");
  ASSERT_EQ(click2.status, 200) << click2.body;
  EXPECT_NE(b.script("return document.getElementById('feed-status').textContent.trim();"), "live")
    << "the page reconnected before the click was sent: the resume was not tested";

  // The page reopens the stream after the last id it saw and shows the click once.
  auto other_click =
    "var items = document.querySelectorAll('#feed .feed-item[data-event-name=\"CLICK\"]');"
    "for (var i = 0; i < items.length; i++)"
    "  if (items[i].getAttribute('data-event-id') !== arguments[0])"
    "    return items[i].getAttribute('data-event-id');"
    "return null;";
  ASSERT_TRUE(b.wait_for(
    "var f = function () {" + std::string(other_click) + "};"
    "return document.getElementById('feed-status').textContent.trim() === 'live'"
    " && f.apply(null, [" + first_click.dump() + "]) !== null;",
    std::chrono::seconds(10)))
    << b.debug();
  auto second_click = b.script(other_click, json::array({first_click}));
  ASSERT_TRUE(second_click.is_string()) << b.debug();
  // Let anything duplicated arrive before counting.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto count_js =
    "return document.querySelectorAll('#feed .feed-item[data-event-id=\"' + arguments[0] + '\"]').length;";
  EXPECT_EQ(b.script(count_js, json::array({second_click})), 1) << b.debug();
  EXPECT_EQ(b.script(count_js, json::array({first_click})), 1) << b.debug();
  // The impression and the two clicks, nothing twice.
  EXPECT_EQ(b.script("return document.querySelectorAll('#feed .feed-item').length;"), 3)
    << b.debug();
  EXPECT_TRUE(b.wait_for(std::string(read_counter_js) + "return counter('summary-clicks') >= 2;",
                         std::chrono::seconds(2)))
    << b.debug();
  auto resumed = b.script("return window.dashboard.state();");
  EXPECT_EQ(resumed["connects"], 2) << resumed.dump();
  EXPECT_EQ(resumed["lastEventId"], second_click) << resumed.dump();
  EXPECT_NE(resumed["streamUrl"].get<std::string>().find("lastEventId="
                                                          + first_click.get<std::string>()),
            std::string::npos)
    << resumed.dump();

  // The charts follow the stored counts (flushed about every second).
  EXPECT_TRUE(b.wait_for(
    "var m = /Clicks (\\d+)/.exec(document.getElementById('hourly-chart').getAttribute('aria-label') || '');"
    "var d = /Clicks (\\d+)/.exec(document.getElementById('daily-chart').getAttribute('aria-label') || '');"
    "return !!m && !!d && parseInt(m[1], 10) >= 2 && parseInt(d[1], 10) >= 2;",
    std::chrono::seconds(10)))
    << b.debug();
  // By now the summary was read back from the server more than once (also
  // while the stream was down, with the second click already stored): the
  // counters still count each event once.
  auto counters = b.script(std::string(read_counter_js)
                           + "return [counter('summary-impressions'), counter('summary-clicks')];");
  EXPECT_EQ(counters, json::array({1, 2})) << b.debug();
  write_screenshot(b, "dashboard-screenshot-resumed.png");

  b.quit();
  EXPECT_TRUE(s.stop());
}

TEST(Browser, AnAdminPicksTheAdvertiserAndServerTextStaysText) {
  ASSERT_TRUE(executable(chromium_path) && executable(chromedriver_path))
    << chromium_path << " or " << chromedriver_path << " is missing: tools/setup installs the "
    << "Debian packages chromium and chromium-driver";
  server_process s;
  ASSERT_TRUE(s.start()) << s.output();
  auto c = active_search_campaign(s, "browseradmin" + unique_suffix());
  ASSERT_GT(c.advertiser, 0);
  // A second campaign whose name is markup: it must show as text.
  const std::string hostile = "<img src=x onerror=\"window.__injected=1\"><b>bold</b>";
  auto product = "TST_" + unique_suffix();
  ASSERT_EQ(s.admin("POST", "/admin/v1/products",
                    json{{"product_id", product}, {"product_name", "p"}, {"category", "a"}}.dump())
              .status,
            201);
  auto created = s.admin(
    "POST", "/admin/v1/campaigns",
    json{{"advertiser_id", c.advertiser}, {"campaign_name", hostile}, {"product_id", product},
         {"start_date", "2026-01-01"}, {"end_date", "2099-01-01"}, {"daily_budget", 50'000},
         {"total_budget", 1'000'000}, {"targeting", {{"keywords", {"hostile" + unique_suffix()}}}},
         {"bids", {{"SEARCH", 100}}}}
      .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto hostile_id = std::to_string(created.json.value("id", int64_t{0}));

  browser b;
  ASSERT_EQ(b.start(), "");
  b.navigate("http://127.0.0.1:" + std::to_string(s.port()) + "/dashboard");
  auto key_input = b.find("#key");
  ASSERT_NE(key_input, "") << b.debug();
  b.type(key_input, s.admin_token());
  b.click(b.find("#sign-in"));
  // An admin names the advertiser.
  ASSERT_TRUE(b.wait_for("var f = document.getElementById('advertiser-form');"
                         "return !!f && !f.classList.contains('hidden');",
                         std::chrono::seconds(10)))
    << b.debug();
  EXPECT_EQ(b.script("return window.dashboard.state().role;"), "admin");
  b.type(b.find("#advertiser-id"), std::to_string(c.advertiser));
  b.click(b.find("#load-advertiser"));
  auto entry = "#campaigns [data-campaign-id=\"" + hostile_id + "\"]";
  ASSERT_TRUE(b.wait_for("return !!document.querySelector('" + entry + "');",
                         std::chrono::seconds(10)))
    << b.debug();
  EXPECT_EQ(b.script("return document.querySelectorAll('#campaigns [data-campaign-id]').length;"), 2);
  EXPECT_EQ(b.script("return document.querySelector('" + entry + " .name span').textContent;"),
            hostile);
  EXPECT_EQ(b.script("return document.querySelectorAll('#campaigns img, #campaigns b').length;"), 0);
  b.click(b.find(entry));
  ASSERT_TRUE(b.wait_for(
    "return document.getElementById('feed-status').textContent.trim() === 'live';",
    std::chrono::seconds(10)))
    << b.debug();
  EXPECT_EQ(b.script("return document.getElementById('campaign-name').textContent;"), hostile);
  EXPECT_EQ(b.script("return document.querySelectorAll('img, b').length;"), 0);
  EXPECT_EQ(b.script("return window.__injected === undefined;"), true);
  EXPECT_EQ(b.script("return document.getElementById('summary-clicks').textContent;"), "0");

  // Variants of an experiment key with no data: the table says so.
  b.type(b.find("#exp-key"), "no-such-experiment");
  b.click(b.find("#load-variants"));
  EXPECT_TRUE(b.wait_for("var t = document.querySelector('#variants tbody');"
                         "return !!t && /No data/.test(t.textContent);",
                         std::chrono::seconds(10)))
    << b.debug();

  // Signing out forgets the key.
  b.click(b.find("#sign-out"));
  EXPECT_EQ(b.script("return sessionStorage.getItem('adserver.dashboard.key');"), nullptr);
  EXPECT_EQ(b.script("return document.getElementById('feed-status').textContent.trim();"),
            "offline");
  b.quit();
  EXPECT_TRUE(s.stop());
}

}  // namespace
