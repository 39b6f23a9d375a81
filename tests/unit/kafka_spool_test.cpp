// The Kafka spool on disk: replay after restart without loss or repeat, torn
// and corrupt tails cut at open, the size cap, write errors reported, private
// file modes, the legacy format converted; the dead-letter file's lines; and
// the tracking routes' 503 while the spool is full.
#include "net/app_context.hpp"
#include "net/router.hpp"
#include "storage/kafka_spool.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace adserver;
using namespace adserver::storage;
namespace fs = std::filesystem;

namespace {

class SpoolFiles : public ::testing::Test {
protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir = fs::temp_directory_path()
          / ("adserver-spool-test-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    path = (dir / "spool.bin").string();
  }
  void TearDown() override {
    fs::remove_all(dir);
  }

  static kafka_event event(int i, size_t payload_size = 0) {
    std::string payload = "{\"n\":" + std::to_string(i) + "}";
    if (payload_size > payload.size())
      payload += std::string(payload_size - payload.size(), ' ');
    return {"ad-events", "key-" + std::to_string(i), payload};
  }

  static std::vector<int> numbers(const std::vector<kafka_event>& events) {
    std::vector<int> out;
    for (auto& e : events)
      out.push_back(nlohmann::json::parse(e.payload)["n"].get<int>());
    return out;
  }

  static std::vector<int> range(int from, int to) {
    std::vector<int> out;
    for (int i = from; i < to; ++i)
      out.push_back(i);
    return out;
  }

  /// Every pending record of a freshly opened spool at `path`.
  std::vector<int> pending_after_reopen(uint64_t max_bytes = kafka_spool::default_max_bytes) {
    kafka_spool s{path, max_bytes};
    EXPECT_EQ(s.open(), "");
    uint64_t end = 0;
    return numbers(s.read_pending(100000, end));
  }

  uint64_t file_size(const std::string& p) const {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : n;
  }

  std::string read_file(const std::string& p) const {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  fs::path dir;
  std::string path;
};

TEST_F(SpoolFiles, ReopenReplaysExactlyWhatWasNotMarkedDelivered) {
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    for (int i = 0; i < 250; ++i)
      ASSERT_EQ(s.append(event(i)), kafka_spool::append_result::kept);
    uint64_t end = 0;
    auto first = s.read_pending(100, end);
    EXPECT_EQ(numbers(first), range(0, 100));
    ASSERT_TRUE(s.mark_delivered(end));
    // Read but not marked: must come back after a restart.
    auto second = s.read_pending(100, end);
    EXPECT_EQ(numbers(second), range(100, 200));
  }
  EXPECT_EQ(pending_after_reopen(), range(100, 250));
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    ASSERT_EQ(s.append(event(250)), kafka_spool::append_result::kept);
    uint64_t end = 0;
    auto all = s.read_pending(1000, end);
    EXPECT_EQ(numbers(all), range(100, 251));
    ASSERT_TRUE(s.mark_delivered(end));
    EXPECT_TRUE(s.empty());
  }
  // Fully delivered: an empty file, nothing pending after a restart.
  EXPECT_EQ(file_size(path), 0u);
  EXPECT_TRUE(pending_after_reopen().empty());
  EXPECT_FALSE(fs::exists(path + ".offset.tmp"));
}

TEST_F(SpoolFiles, TruncatedTailIsCutAndTheCompleteRecordsBeforeItReplay) {
  uint64_t good_end = 0;
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(s.append(event(i, 200)), kafka_spool::append_result::kept);
    good_end = file_size(path);
    ASSERT_EQ(s.append(event(3, 200)), kafka_spool::append_result::kept);
  }
  auto full_size = file_size(path);
  // A crash in the middle of the last append: only part of it reached disk.
  fs::resize_file(path, good_end + (full_size - good_end) / 2);
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    EXPECT_EQ(s.cut_bytes(), (full_size - good_end) / 2);
    EXPECT_EQ(file_size(path), good_end);
    EXPECT_EQ(file_size(path + ".cut"), (full_size - good_end) / 2);
    // Appends go after the last good record and replay in order.
    ASSERT_EQ(s.append(event(4)), kafka_spool::append_result::kept);
    uint64_t end = 0;
    EXPECT_EQ(numbers(s.read_pending(100, end)), (std::vector<int>{0, 1, 2, 4}));
  }
  EXPECT_EQ(pending_after_reopen(), (std::vector<int>{0, 1, 2, 4}));
}

TEST_F(SpoolFiles, TornHeaderOfAFirstRecordIsCut) {
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    ASSERT_EQ(s.append(event(0)), kafka_spool::append_result::kept);
  }
  fs::resize_file(path, 3);  // only "ADS" of the header made it
  EXPECT_TRUE(pending_after_reopen().empty());
  EXPECT_EQ(file_size(path), 0u);
}

TEST_F(SpoolFiles, CorruptChecksumAtTheEndIsCut) {
  uint64_t good_end = 0;
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(s.append(event(i, 100)), kafka_spool::append_result::kept);
    good_end = file_size(path);
    ASSERT_EQ(s.append(event(3, 100)), kafka_spool::append_result::kept);
  }
  auto full_size = file_size(path);
  // Same length, different bytes: a torn write the length check cannot see.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(full_size - 10));
    f.put('X');
  }
  kafka_spool s{path};
  ASSERT_EQ(s.open(), "");
  uint64_t end = 0;
  EXPECT_EQ(numbers(s.read_pending(100, end)), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(s.cut_bytes(), full_size - good_end);
  EXPECT_EQ(file_size(path), good_end);
}

TEST_F(SpoolFiles, FilesAreCreatedPrivate) {
  auto old_mask = ::umask(0);  // so only the mode asked for at creation counts
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    ASSERT_EQ(s.append(event(0)), kafka_spool::append_result::kept);
    uint64_t end = 0;
    s.read_pending(1, end);
    ASSERT_TRUE(s.mark_delivered(end));
    ASSERT_EQ(s.append(event(1)), kafka_spool::append_result::kept);
    dead_letter_file dead{path + ".dead"};
    ASSERT_TRUE(dead.write(event(2), "too large"));
  }
  ::umask(old_mask);
  for (auto p : {path, path + ".offset", path + ".dead"}) {
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << p;
  }
}

TEST_F(SpoolFiles, TheCapRefusesAppendsAndReportsFull) {
  kafka_spool s{path, 1000};
  ASSERT_EQ(s.open(), "");
  int kept = 0;
  while (kept < 100 && s.append(event(kept, 180)) == kafka_spool::append_result::kept)
    ++kept;
  EXPECT_GE(kept, 4);
  EXPECT_LE(kept, 6);
  EXPECT_TRUE(s.full());
  EXPECT_GE(s.pending_bytes(), 1000u);
  EXPECT_EQ(s.refused_full(), 1);
  EXPECT_EQ(s.append(event(99)), kafka_spool::append_result::full);
  EXPECT_EQ(s.refused_full(), 2);
  EXPECT_EQ(s.appended(), kept);
  // Replay frees space: appends are taken again.
  uint64_t end = 0;
  EXPECT_EQ(numbers(s.read_pending(2, end)), (std::vector<int>{0, 1}));
  ASSERT_TRUE(s.mark_delivered(end));
  EXPECT_FALSE(s.full());
  EXPECT_EQ(s.append(event(100)), kafka_spool::append_result::kept);
  EXPECT_EQ(numbers(s.read_pending(100, end)).back(), 100);
}

TEST_F(SpoolFiles, AFullDiskIsAWriteErrorNotAKeptEvent) {
  fs::create_symlink("/dev/full", path);
  kafka_spool s{path};
  ASSERT_EQ(s.open(), "");
  EXPECT_EQ(s.append(event(0)), kafka_spool::append_result::write_error);
  EXPECT_EQ(s.write_errors(), 1);
  EXPECT_TRUE(s.failing());
  EXPECT_NE(s.last_error().find("No space"), std::string::npos) << s.last_error();
  EXPECT_EQ(s.appended(), 0);
  EXPECT_TRUE(s.empty());
  dead_letter_file dead{(dir / "dead").string()};
  fs::create_symlink("/dev/full", dir / "dead");
  EXPECT_FALSE(dead.write(event(0), "spool full"));
  EXPECT_NE(dead.last_error().find("No space"), std::string::npos) << dead.last_error();
}

TEST_F(SpoolFiles, AWriteCutShortByAFileSizeLimitIsRolledBack) {
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    ASSERT_EQ(s.append(event(0)), kafka_spool::append_result::kept);
    auto before = file_size(path);
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit old_limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    rlimit small = old_limit;
    small.rlim_cur = before + 50;  // room for part of the next record only
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    auto result = s.append(event(1, 300));
    ::setrlimit(RLIMIT_FSIZE, &old_limit);
    std::signal(SIGXFSZ, old_handler);
    EXPECT_EQ(result, kafka_spool::append_result::write_error);
    EXPECT_EQ(s.write_errors(), 1);
    EXPECT_TRUE(s.failing());
    EXPECT_EQ(file_size(path), before);  // no partial record left behind
    // The limit is gone: the spool works again.
    EXPECT_EQ(s.append(event(2)), kafka_spool::append_result::kept);
    EXPECT_FALSE(s.failing());
  }
  EXPECT_EQ(pending_after_reopen(), (std::vector<int>{0, 2}));
}

TEST_F(SpoolFiles, AStaleOffsetNextToAnEmptiedSpoolDoesNotHideNewRecords) {
  // A crash between truncating the drained spool and rewriting its offset.
  { std::ofstream(path, std::ios::binary); }
  { std::ofstream(path + ".offset") << "v1 5000\n"; }
  {
    kafka_spool s{path};
    ASSERT_EQ(s.open(), "");
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(s.append(event(i)), kafka_spool::append_result::kept);
  }
  EXPECT_EQ(pending_after_reopen(), range(0, 3));
}

TEST_F(SpoolFiles, ALegacyHeaderlessSpoolIsConverted) {
  auto u32 = [](std::string& out, uint32_t x) {
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
  };
  std::string bytes;
  uint64_t after_first = 0;
  for (int i = 0; i < 4; ++i) {
    auto e = event(i);
    for (auto* s : {&e.topic, &e.key, &e.payload}) {
      u32(bytes, static_cast<uint32_t>(s->size()));
      bytes += *s;
    }
    if (i == 0)
      after_first = bytes.size();
  }
  bytes.resize(bytes.size() - 3);  // the last one is torn
  { std::ofstream(path, std::ios::binary) << bytes; }
  { std::ofstream(path + ".offset") << after_first << "\n"; }
  EXPECT_EQ(pending_after_reopen(), (std::vector<int>{1, 2}));
  EXPECT_EQ(read_file(path).substr(0, 4), "ADSP");
  EXPECT_EQ(read_file(path + ".offset").substr(0, 3), "v1 ");
  EXPECT_EQ(pending_after_reopen(), (std::vector<int>{1, 2}));  // converted once
}

TEST_F(SpoolFiles, DeadLettersAreJsonLines) {
  dead_letter_file dead{path + ".dead"};
  ASSERT_TRUE(dead.write(event(1), "too large"));
  ASSERT_TRUE(dead.write({"campaign-events", "k\"2", "not json \n\x01"}, "spool full"));
  ASSERT_TRUE(dead.sync());
  std::ifstream in(path + ".dead");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["topic"], "ad-events");
  EXPECT_EQ(lines[0]["key"], "key-1");
  EXPECT_EQ(lines[0]["reason"], "too large");
  EXPECT_EQ(lines[0]["payload"], event(1).payload);
  EXPECT_EQ(lines[0]["time"].get<std::string>().size(), 29u);  // 2026-01-01T00:00:00.000+00:00
  EXPECT_EQ(lines[1]["key"], "k\"2");
  EXPECT_EQ(lines[1]["payload"], "not json \n\x01");
  EXPECT_EQ(lines[1]["reason"], "spool full");
}

TEST(Crc32, KnownValue) {
  EXPECT_EQ(crc32(0, "123456789", 9), 0xCBF43926u);
}

// -- the tracking routes while the spool is full ----------------------------------------

struct TrackingRoutes : ::testing::Test {
  net::http_reply call(const std::string& path) {
    net::app_context app;
    app.event_log = gauge;
    net::router r;
    net::add_ads_routes(r, app);
    net::http_request req;
    req.method = "POST";
    req.path = path;
    req.body = "{}";
    net::http_reply out;
    out.status = 0;
    r.dispatch(req, [&](net::http_reply reply) { out = std::move(reply); });
    return out;
  }
  static std::string header(const net::http_reply& r, const std::string& name) {
    for (auto& [k, v] : r.headers)
      if (k == name)
        return v;
    return {};
  }
  std::shared_ptr<event_log_gauge> gauge = std::make_shared<event_log_gauge>();
};

TEST_F(TrackingRoutes, AnswerUnavailableWithRetryAfterWhileTheSpoolIsFull) {
  for (auto path : {"/api/v1/ads/impression", "/api/v1/ads/click", "/api/v1/ads/conversion"}) {
    gauge->spool_full = false;
    auto open = call(path);
    EXPECT_EQ(open.status, 400) << path << ": " << open.body;  // reached validation
    gauge->spool_full = true;
    auto refused = call(path);
    EXPECT_EQ(refused.status, 503) << path;
    EXPECT_EQ(nlohmann::json::parse(refused.body)["error"]["code"], "UNAVAILABLE") << path;
    EXPECT_EQ(header(refused, "Retry-After"), "5") << path;
  }
}

}  // namespace
