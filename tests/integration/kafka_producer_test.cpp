// The Kafka producer actor against librdkafka's real mock cluster: events the
// cluster or the producer refuse for good go to the dead-letter file and never
// hold up the events behind them (published directly or replayed from the
// spool); retriable failures stay spooled and are replayed in order; the
// spool cap dead-letters and raises the gauge the HTTP layer reads.
#include "actors/system_setup.hpp"
#include "protocol/interfaces.hpp"
#include "storage/kafka_actor.hpp"
#include "storage/kafka_spool.hpp"
#include "tests/support/server_process.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <functional>
#include <thread>
#include <unistd.h>

using namespace adserver;
using namespace adserver::storage;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* poison_topic = "poison-topic";
constexpr const char* unknown_topic = "unknown-topic";
constexpr int64_t max_message = 5000;

struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.max-threads", 2);
    set("logger.verbosity", caf::atom("quiet"));
    register_message_types(*this);
  }
};

class KafkaProducer : public ::testing::Test {
protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir = fs::temp_directory_path()
          / ("adserver-producer-test-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    spool_path = (dir / "spool.bin").string();
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    ASSERT_NE(mock_rk, nullptr) << errstr;
    cluster = rd_kafka_mock_cluster_new(mock_rk, 1);
    ASSERT_NE(cluster, nullptr);
    // One partition: the topic's order is the order of production.
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster, "ad-events", 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    // A topic the cluster refuses for good (Produce answers "Invalid topic").
    rd_kafka_mock_topic_set_error(cluster, poison_topic, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
    // A topic the cluster does not have (and does not create).
    rd_kafka_mock_topic_set_error(cluster, unknown_topic, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  }

  void TearDown() override {
    if (sys) {
      caf::anon_send_exit(producer, caf::exit_reason::user_shutdown);
      producer = kafka_actor{};
      sys.reset();  // waits for the producer to finish
    }
    if (cluster)
      rd_kafka_mock_cluster_destroy(cluster);
    if (mock_rk)
      rd_kafka_destroy(mock_rk);
    fs::remove_all(dir);
  }

  void start(int message_timeout_ms = 5000, int64_t spool_max_bytes = int64_t{256} << 20) {
    kafka_settings s;
    s.brokers = bootstrap;
    s.spool_path = spool_path;
    s.message_timeout_ms = message_timeout_ms;
    s.max_message_bytes = max_message;
    s.spool_max_bytes = spool_max_bytes;
    s.gauge = gauge;
    sys = std::make_unique<caf::actor_system>(cfg);
    producer = spawn_kafka_producer(*sys, s);
  }

  void publish(const kafka_event& e) {
    caf::anon_send(producer, publish_atom::value, e);
  }

  status_record status() {
    caf::scoped_actor self{*sys};
    status_record out;
    self->request(producer, std::chrono::seconds(10), status_atom::value)
      .receive([&](const status_record& r) { out = r; }, [&](caf::error&) {});
    return out;
  }

  /// Polls the producer's status until `done` holds (at most 30 s).
  status_record wait_for(const std::function<bool(status_record&)>& done) {
    status_record r;
    for (int i = 0; i < 600; ++i) {
      r = status();
      if (done(r))
        return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return r;
  }

  kafka_event event(int n, const std::string& topic = "ad-events", size_t size = 0) const {
    json j = {{"run", run}, {"n", n}};
    auto payload = j.dump();
    if (size > payload.size())
      payload.insert(payload.size() - 1, ",\"pad\":\"" + std::string(size, 'x') + "\"");
    return {topic, "key-" + std::to_string(n), payload};
  }

  /// The `n` of this run's events in ad-events, in topic order.
  std::vector<int> delivered_numbers() const {
    std::vector<int> out;
    for (auto& [key, j] : adserver::testing::read_topic(bootstrap, "ad-events"))
      if (j.value("run", "") == run)
        out.push_back(j.value("n", -1));
    return out;
  }

  std::vector<json> dead_letters() const {
    std::vector<json> out;
    std::ifstream in(spool_path + ".dead");
    for (std::string line; std::getline(in, line);)
      out.push_back(json::parse(line));
    return out;
  }

  static std::vector<int> range(int from, int to) {
    std::vector<int> out;
    for (int i = from; i < to; ++i)
      out.push_back(i);
    return out;
  }

  fs::path dir;
  std::string spool_path;
  std::string run = adserver::testing::unique_suffix();
  rd_kafka_t* mock_rk = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  std::string bootstrap;
  std::shared_ptr<event_log_gauge> gauge = std::make_shared<event_log_gauge>();
  test_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  kafka_actor producer;
};

TEST_F(KafkaProducer, PoisonEventsAreDeadLetteredAndTheOthersDelivered) {
  start();
  publish(event(0));
  publish(event(100, "ad-events", max_message + 1000));  // refused by the producer
  publish(event(1));
  publish(event(101, poison_topic));  // refused by the cluster
  publish(event(2));
  // Reported as unknown (not timed out like an outage, which would be
  // spooled and retried forever).
  publish(event(102, unknown_topic));
  publish(event(3));
  auto st = wait_for([](status_record& r) {
    return r.figures["delivered"] >= 4 && r.figures["dead_letters"] >= 3;
  });
  EXPECT_EQ(st.figures["delivered"], 4);
  EXPECT_EQ(st.figures["dead_letters"], 3);
  EXPECT_EQ(st.figures["spool_bytes"], 0);
  EXPECT_EQ(st.figures["spooled_total"], 0);
  EXPECT_EQ(gauge->dead_letters.load(), 3);
  EXPECT_FALSE(st.info["last_dead_letter"].empty());
  EXPECT_EQ(delivered_numbers(), range(0, 4));
  auto dead = dead_letters();
  ASSERT_EQ(dead.size(), 3u);
  EXPECT_EQ(dead[0]["reason"], "too large");
  EXPECT_EQ(dead[0]["topic"], "ad-events");
  EXPECT_EQ(dead[0]["key"], "key-100");
  EXPECT_EQ(dead[0]["payload"], event(100, "ad-events", max_message + 1000).payload);
  EXPECT_EQ(dead[1]["topic"], poison_topic);
  EXPECT_NE(dead[1]["reason"].get<std::string>().find("TOPIC_EXCEPTION"), std::string::npos)
    << dead[1].dump();
  EXPECT_EQ(json::parse(dead[1]["payload"].get<std::string>())["n"], 101);
  EXPECT_EQ(dead[2]["topic"], unknown_topic);
  EXPECT_NE(dead[2]["reason"].get<std::string>().find("UNKNOWN_TOPIC"), std::string::npos)
    << dead[2].dump();
}

TEST_F(KafkaProducer, APoisonRecordInTheSpoolDoesNotStallReplay) {
  // Left over from an earlier run: good records around two poison ones, more
  // than one replay chunk of them.
  {
    kafka_spool spool{spool_path};
    ASSERT_EQ(spool.open(), "");
    ASSERT_EQ(spool.append(event(0)), kafka_spool::append_result::kept);
    ASSERT_EQ(spool.append(event(100, poison_topic)), kafka_spool::append_result::kept);
    ASSERT_EQ(spool.append(event(101, "ad-events", max_message + 1000)),
              kafka_spool::append_result::kept);
    for (int i = 1; i < 250; ++i)
      ASSERT_EQ(spool.append(event(i)), kafka_spool::append_result::kept);
  }
  start();
  auto st = wait_for([](status_record& r) {
    return r.figures["spooling"] == 0 && r.figures["spool_bytes"] == 0;
  });
  EXPECT_EQ(st.figures["spooling"], 0);
  EXPECT_EQ(st.figures["spool_bytes"], 0);
  EXPECT_EQ(st.figures["replayed"], 250);
  EXPECT_EQ(st.figures["dead_letters"], 2);
  // Every good record once, in spool order.
  EXPECT_EQ(delivered_numbers(), range(0, 250));
  auto dead = dead_letters();
  ASSERT_EQ(dead.size(), 2u);
  // The too-large one is refused before it is produced, the other when the
  // cluster answers: either may come first.
  std::set<std::string> keys{dead[0]["key"], dead[1]["key"]};
  EXPECT_EQ(keys, (std::set<std::string>{"key-100", "key-101"}));
  for (auto& d : dead)
    EXPECT_EQ(d["reason"] == "too large", d["key"] == "key-101") << d.dump();
  // Drained: new events go straight out.
  publish(event(250));
  wait_for([](status_record& r) { return r.figures["delivered"] >= 251; });
  EXPECT_EQ(delivered_numbers(), range(0, 251));
  EXPECT_EQ(fs::file_size(spool_path), 0u);
}

TEST_F(KafkaProducer, RetriableFailuresStaySpooledAndReplayInOrder) {
  rd_kafka_mock_broker_set_down(cluster, 1);
  start(1000);
  for (int i = 0; i < 5; ++i)
    publish(event(i));
  auto st = wait_for([](status_record& r) { return r.figures["spooled_total"] >= 5; });
  EXPECT_EQ(st.figures["spooled_total"], 5);
  EXPECT_EQ(st.figures["dead_letters"], 0);  // an outage is not a poison
  EXPECT_GT(st.figures["spool_bytes"], 0);
  EXPECT_EQ(st.figures["spooling"], 1);
  publish(event(5));  // behind the spooled ones, kept in order
  rd_kafka_mock_broker_set_up(cluster, 1);
  st = wait_for([](status_record& r) {
    return r.figures["spooling"] == 0 && r.figures["delivered"] >= 6;
  });
  EXPECT_EQ(st.figures["spool_bytes"], 0);
  EXPECT_EQ(st.figures["dead_letters"], 0);
  EXPECT_EQ(delivered_numbers(), range(0, 6));
}

TEST_F(KafkaProducer, AFullSpoolDeadLettersAndRaisesTheGauge) {
  rd_kafka_mock_broker_set_down(cluster, 1);
  start(1000, 1);  // the first spooled record fills it
  for (int i = 0; i < 4; ++i)
    publish(event(i));
  auto st = wait_for([](status_record& r) {
    return r.figures["spooled_total"] + r.figures["dead_letters"] >= 4;
  });
  EXPECT_EQ(st.figures["spooled_total"], 1);
  EXPECT_EQ(st.figures["dead_letters"], 3);
  EXPECT_EQ(st.figures["spool_refused"], 3);
  EXPECT_EQ(st.figures["spool_full"], 1);
  EXPECT_TRUE(gauge->spool_full.load());
  EXPECT_GT(gauge->spool_bytes.load(), 0);
  EXPECT_EQ(gauge->dead_letters.load(), 3);
  auto dead = dead_letters();
  ASSERT_EQ(dead.size(), 3u);
  for (size_t i = 0; i < dead.size(); ++i) {
    EXPECT_EQ(dead[i]["reason"], "spool full");
    EXPECT_EQ(dead[i]["key"], "key-" + std::to_string(i + 1));
  }
  // Brokers return: the spool drains and the gauge falls.
  rd_kafka_mock_broker_set_up(cluster, 1);
  st = wait_for([](status_record& r) { return r.figures["spooling"] == 0; });
  EXPECT_EQ(st.figures["spool_full"], 0);
  EXPECT_FALSE(gauge->spool_full.load());
  EXPECT_EQ(gauge->spool_bytes.load(), 0);
  EXPECT_EQ(delivered_numbers(), range(0, 1));
}

}  // namespace
