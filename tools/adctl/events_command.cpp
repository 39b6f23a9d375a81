// adctl events tail TOPIC: follows one of the node's event topics with a
// librdkafka consumer and prints each event as one JSON line. Partitions are
// assigned directly (no consumer group, nothing committed): watching never
// moves anyone's offsets and starts without a group rebalance. The client's
// errors go to stderr, one line each, while the events go on to stdout; a
// fatal error or a topic or partition that is gone ends it (exit 1).
#include "tools/adctl/admin_api.hpp"
#include "tools/adctl/commands.hpp"

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

namespace adctl {

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) {
  interrupted = 1;
}

constexpr int metadata_timeout_ms = 5000;
constexpr int poll_ms = 200;  // how soon Ctrl-C is noticed

const char* const topics[] = {"ad-events", "conversion-events", "campaign-events"};

using steady = std::chrono::steady_clock;

/// An error said again within this long is not printed again (a broker that
/// is down is reported by the client every few seconds).
constexpr auto repeat_quiet = std::chrono::seconds(30);

/// librdkafka logs connection trouble on stderr by itself; its errors come
/// through on_error instead.
void quiet_log(const rd_kafka_t*, int, const char*, const char*) {
}

/// What the consumer's error callback tells the loop (it runs inside
/// rd_kafka_consumer_poll, on the loop's thread).
struct tail_state {
  bool following = false;  // errors before (the start's own) and after are not printed
  std::optional<std::string> fatal;
  std::string last_error;
  steady::time_point last_error_at;

  void report(const std::string& what) {
    auto now = steady::now();
    if (what == last_error && now - last_error_at < repeat_quiet)
      return;
    last_error = what;
    last_error_at = now;
    std::cerr << "adctl: Kafka: " << what << std::endl;
  }
};

void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* st = static_cast<tail_state*>(opaque);
  if (!st || !st->following)
    return;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char why[512] = "";
    auto cause = rd_kafka_fatal_error(rk, why, sizeof why);
    st->fatal = std::string{why[0] ? why : reason} + " (" + rd_kafka_err2name(cause) + ")";
    return;
  }
  st->report(std::string{reason} + " ("
             + rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)) + ")");
}

/// The partition is not there (any more): nothing will come from it.
bool gone(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
         || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
}

struct consumer_deleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
using consumer_ptr = std::unique_ptr<rd_kafka_t, consumer_deleter>;

consumer_ptr make_consumer(const std::string& brokers, tail_state& state) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw failure(std::string{"Kafka setting "} + k + ": " + errstr);
    }
  };
  set("bootstrap.servers", brokers);
  // Required by the consumer API; never joined (partitions are assigned).
  set("group.id", "adctl-tail");
  set("enable.auto.commit", "false");
  set("enable.auto.offset.store", "false");
  set("enable.partition.eof", "false");
  rd_kafka_conf_set_log_cb(conf, quiet_log);
  rd_kafka_conf_set_error_cb(conf, on_error);
  rd_kafka_conf_set_opaque(conf, &state);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk)
    throw failure(std::string{"cannot create a Kafka consumer: "} + errstr);
  rd_kafka_poll_set_consumer(rk);
  return consumer_ptr{rk};
}

/// Assigns every partition of `topic`, at its start or its end.
void assign_all(rd_kafka_t* rk, const std::string& topic, const std::string& brokers,
                bool from_beginning) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk, 0, rkt, &md, metadata_timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw failure("cannot reach Kafka at " + brokers + ": " + rd_kafka_err2str(err));
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> hold(
    md, rd_kafka_metadata_destroy);
  if (md->topic_cnt < 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR
      || md->topics[0].partition_cnt < 1)
    throw failure("Kafka at " + brokers + " has no topic " + topic
                  + (md->topic_cnt > 0 ? std::string{" ("} + rd_kafka_err2str(md->topics[0].err) + ")"
                                       : std::string{}));
  auto& t = md->topics[0];
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(t.partition_cnt);
  for (int i = 0; i < t.partition_cnt; ++i)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), t.partitions[i].id)->offset =
      from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
  err = rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw failure("cannot follow " + topic + ": " + rd_kafka_err2str(err));
}

/// The event as one line: compact JSON, or a JSON string when it is not JSON.
std::string event_line(const rd_kafka_message_t* m) {
  std::string payload(static_cast<const char*>(m->payload), m->len);
  auto j = nlohmann::json::parse(payload, nullptr, false);
  if (j.is_discarded())
    j = payload;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

int run_events(invocation& inv) {
  if (inv.args[0] != "tail")
    throw usage_error("events knows only 'tail', not '" + inv.args[0]
                      + "'; see 'adctl events --help'");
  if (inv.args.size() < 2)
    throw usage_error("events tail needs a TOPIC (ad-events, conversion-events or "
                      "campaign-events)");
  const std::string& topic = inv.args[1];
  bool known = false;
  for (auto* t : topics)
    known = known || topic == t;
  if (!known)
    throw usage_error("TOPIC must be ad-events, conversion-events or campaign-events, not '"
                      + topic + "'");
  std::string brokers = inv.flag_or("--brokers", "");
  for (auto* name : {"ADSERVER_BROKERS", "ADSERVER_KAFKA_BROKERS"})
    if (brokers.empty())
      if (const char* env = std::getenv(name); env && std::string{env} != "embedded")
        brokers = env;
  if (brokers.empty()) {
    // The brokers the node itself publishes to (the embedded cluster's too).
    nlohmann::json realtime = inv.api().get("/admin/v1/monitoring/realtime");
    if (realtime.is_object() && realtime.contains("io") && realtime["io"].is_object()
        && realtime["io"].contains("kafka_brokers") && realtime["io"]["kafka_brokers"].is_string())
      brokers = realtime["io"]["kafka_brokers"].get<std::string>();
  }
  if (brokers.empty())
    throw failure("no Kafka brokers: give --brokers HOST:PORT[,...] or set ADSERVER_BROKERS "
                  "(the node names them in GET /admin/v1/monitoring/realtime io.kafka_brokers)");
  int64_t max = inv.has("--max") ? positive_integer(inv.flag_or("--max", ""), "--max") : 0;
  std::optional<double> timeout;
  if (inv.has("--timeout"))
    timeout = positive_number(inv.flag_or("--timeout", ""), "--timeout");

  tail_state state;
  auto consumer = make_consumer(brokers, state);
  // Declared after the consumer, so gone before it is closed: closing may
  // still serve errors, which would print after the outcome.
  struct stop_reporting {
    tail_state& st;
    ~stop_reporting() { st.following = false; }
  } guard{state};
  assign_all(consumer.get(), topic, brokers, inv.has("--from-beginning"));
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  state.following = true;
  std::optional<steady::time_point> until;
  if (timeout)
    until = steady::now()
            + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(*timeout));
  int64_t printed = 0;
  while (!interrupted && (max == 0 || printed < max)) {
    int wait_ms = poll_ms;
    if (until) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*until - steady::now());
      if (left.count() <= 0)
        break;  // --timeout: as long as asked, fine
      wait_ms = static_cast<int>(std::min<int64_t>(poll_ms, left.count()));
    }
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> m(
      rd_kafka_consumer_poll(consumer.get(), wait_ms), rd_kafka_message_destroy);
    if (state.fatal)
      throw failure("Kafka: fatal error: " + *state.fatal);
    if (!m)
      continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cout << event_line(m.get()) << std::endl;
      ++printed;
      continue;
    }
    std::string where = m->rkt ? std::string{rd_kafka_topic_name(m->rkt)} : topic;
    if (m->partition >= 0)
      where += " partition " + std::to_string(m->partition);
    if (gone(m->err))
      throw failure("Kafka: " + where + ": " + rd_kafka_message_errstr(m.get()) + " ("
                    + rd_kafka_err2name(m->err) + ")");
    // The client's own trouble (a broker away, retrying by itself): said,
    // and followed on.
    state.report(where + ": " + rd_kafka_message_errstr(m.get()) + " ("
                 + rd_kafka_err2name(m->err) + ")");
  }
  return 0;
}

}  // namespace adctl
