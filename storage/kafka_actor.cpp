#include "storage/kafka_actor.hpp"

#include "protocol/telemetry.hpp"

#include "storage/kafka_spool.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

namespace adserver::storage {

const std::vector<std::string>& event_topics() {
  static const std::vector<std::string> topics = {"ad-events", "conversion-events",
                                                  "campaign-events"};
  return topics;
}

// -- embedded cluster -------------------------------------------------------------

embedded_kafka::~embedded_kafka() {
  if (cluster_)
    rd_kafka_mock_cluster_destroy(static_cast<rd_kafka_mock_cluster_t*>(cluster_));
  if (rk_)
    rd_kafka_destroy(static_cast<rd_kafka_t*>(rk_));
}

std::unique_ptr<embedded_kafka> embedded_kafka::start(int partitions, std::string& err) {
  std::unique_ptr<embedded_kafka> out{new embedded_kafka};
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    err = errstr;
    return nullptr;
  }
  out->rk_ = rk;
  auto* mc = rd_kafka_mock_cluster_new(rk, 1);
  if (!mc) {
    err = "cannot create the embedded Kafka cluster";
    return nullptr;
  }
  out->cluster_ = mc;
  for (auto& t : event_topics())
    if (rd_kafka_mock_topic_create(mc, t.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      err = "cannot create topic " + t;
      return nullptr;
    }
  out->bootstrap_ = rd_kafka_mock_cluster_bootstraps(mc);
  return out;
}

void embedded_kafka::set_available(bool up) {
  auto* mc = static_cast<rd_kafka_mock_cluster_t*>(cluster_);
  if (up)
    rd_kafka_mock_broker_set_up(mc, 1);
  else
    rd_kafka_mock_broker_set_down(mc, 1);
}

// -- producer -------------------------------------------------------------------------

namespace {

/// Errors after which the same event may well go through later: the event
/// stays spooled and is retried. Everything else is the event's own fault
/// (too large, invalid or unknown topic, corrupt, ...) and is dead-lettered.
/// Cluster-wide problems that no retry of one event fixes but an operator can
/// (authorization, authentication, TLS) also count as retriable: dead-
/// lettering the whole stream would be worse than holding it in the spool.
bool retriable(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__FATAL:  // the producer instance is replaced
    case RD_KAFKA_RESP_ERR__FAIL:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__RETRY:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__ISR_INSUFF:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__OUTDATED:
    case RD_KAFKA_RESP_ERR__INTR:
    case RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_BROKER:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE:
    case RD_KAFKA_RESP_ERR__INCONSISTENT:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
    case RD_KAFKA_RESP_ERR_REASSIGNMENT_IN_PROGRESS:
      return true;
    default:
      return false;
  }
}

std::string reason_of(rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
    return "too large";
  return std::string{rd_kafka_err2name(err)} + ": " + rd_kafka_err2str(err);
}

}  // namespace

struct kafka_state {
  // Records per replay chunk. The offset file moves once per chunk, so a
  // crash after Kafka acknowledged a chunk but before its offset was stored
  // sends at most this many records again at the next start (the idempotent
  // producer does not de-duplicate across producer instances).
  static constexpr size_t chunk_records = 100;

  kafka_settings settings;
  rd_kafka_t* rk = nullptr;
  std::unique_ptr<kafka_spool> spool;
  std::unique_ptr<dead_letter_file> dead;
  std::shared_ptr<event_log_gauge> gauge;
  // While true every new event goes to the spool, so order is kept until the
  // spool has drained.
  bool spooling = false;
  // The last delivery report said Kafka is unavailable (retriable error).
  bool kafka_failing = false;
  // Replay of one chunk of the spool: each record is produced once; a record
  // is done when delivered or dead-lettered, and the chunk is marked
  // delivered when all of it is done.
  std::vector<kafka_event> chunk;
  std::vector<char> chunk_done;
  uint64_t chunk_end = 0;
  size_t chunk_outstanding = 0;
  bool chunk_failed = false;
  std::chrono::steady_clock::time_point next_replay;
  std::chrono::steady_clock::time_point next_drop_log;
  std::chrono::steady_clock::time_point next_lost_log;
  int64_t produced = 0;
  int64_t delivered = 0;
  int64_t failed_deliveries = 0;
  int64_t replayed = 0;
  int64_t dead_letters = 0;
  int64_t dead_letter_errors = 0;
  int64_t lost = 0;
  int64_t producer_restarts = 0;
  std::string last_error;
  std::string last_dead_letter;
  census_entry census{actor_kind::kafka_producer};
  static inline const char* name = "kafka-producer";

  ~kafka_state() {
    destroy_producer(3000);
    if (spool)
      spool->sync();
    if (dead)
      dead->sync();
  }

  bool create_producer();

  /// Flushes for up to `flush_ms`, then purges: whatever is still queued is
  /// spooled by its (purged) delivery report.
  void destroy_producer(int flush_ms) {
    if (!rk)
      return;
    rd_kafka_flush(rk, flush_ms);
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 100);
    rd_kafka_destroy(rk);
    rk = nullptr;
  }

  void start_spooling() {
    spooling = true;
    next_replay = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  }

  bool too_large(const kafka_event& e) const {
    return static_cast<int64_t>(e.key.size() + e.payload.size()) > settings.max_message_bytes;
  }

  /// To the dead-letter file; false when even that failed.
  bool dead_letter(const kafka_event& e, const std::string& reason) {
    if (!dead->write(e, reason)) {
      ++dead_letter_errors;
      last_error = dead->last_error();
      return false;
    }
    ++dead_letters;
    last_dead_letter = reason;
    auto now = std::chrono::steady_clock::now();
    if (now >= next_drop_log) {
      // At most one line a minute, however many follow.
      std::cerr << "kafka: event for " << e.topic << " dead-lettered (" << reason << ") into "
                << dead->path() << "; " << dead_letters << " so far" << std::endl;
      next_drop_log = now + std::chrono::minutes(1);
    }
    return true;
  }

  /// The end of the road for an event that is neither sent nor spooled.
  void give_up(const kafka_event& e, const std::string& reason) {
    if (dead_letter(e, reason))
      return;
    ++lost;
    auto now = std::chrono::steady_clock::now();
    if (now >= next_lost_log) {
      std::cerr << "kafka: event for " << e.topic << " lost (" << reason
                << "), the dead-letter file failed too: " << dead->last_error() << "; " << lost
                << " lost so far" << std::endl;
      next_lost_log = now + std::chrono::minutes(1);
    }
  }

  void to_spool(const kafka_event& e) {
    switch (spool->append(e)) {
      case kafka_spool::append_result::kept:
        break;
      case kafka_spool::append_result::full:
        give_up(e, "spool full");
        break;
      case kafka_spool::append_result::write_error:
        last_error = spool->last_error();
        give_up(e, "spool write failed: " + spool->last_error());
        break;
    }
    if (!spooling && !spool->empty())
      start_spooling();
  }

  rd_kafka_resp_err_t produce(const kafka_event& e, void* opaque) {
    if (!rk)
      return RD_KAFKA_RESP_ERR__STATE;
    auto err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(e.topic.c_str()),
      RD_KAFKA_V_KEY(const_cast<char*>(e.key.data()), e.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(e.payload.data()), e.payload.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      last_error = rd_kafka_err2str(err);
    else
      ++produced;
    return err;
  }

  void publish(const kafka_event& e) {
    if (too_large(e))
      return give_up(e, "too large");
    if (spooling)
      return to_spool(e);
    auto err = produce(e, nullptr);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
      return;
    if (retriable(err))
      to_spool(e);
    else
      give_up(e, reason_of(err));
  }

  void on_delivery(const rd_kafka_message_t* m) {
    auto index = reinterpret_cast<uintptr_t>(m->_private);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      kafka_failing = false;
      ++delivered;
    } else {
      ++failed_deliveries;
      last_error = rd_kafka_err2str(m->err);
      if (retriable(m->err))
        kafka_failing = true;
    }
    if (index != 0) {  // a replayed record: chunk[index - 1]
      --chunk_outstanding;
      auto i = index - 1;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        chunk_done[i] = 1;
        ++replayed;
      } else if (retriable(m->err) || !dead_letter(chunk[i], reason_of(m->err))) {
        chunk_failed = true;  // stays in the spool, retried
      } else {
        chunk_done[i] = 1;
      }
      return;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
      return;
    kafka_event e;
    e.topic = rd_kafka_topic_name(m->rkt);
    if (m->key)
      e.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload)
      e.payload.assign(static_cast<const char*>(m->payload), m->len);
    if (retriable(m->err))
      to_spool(e);
    else
      give_up(e, reason_of(m->err));
  }

  void replay_step() {
    if (chunk_outstanding > 0)
      return;
    if (!chunk.empty()) {
      bool all = true;
      for (char d : chunk_done)
        all = all && d;
      if (all) {
        if (!spool->mark_delivered(chunk_end))
          last_error = spool->last_error();
        chunk.clear();
        chunk_done.clear();
      } else if (chunk_failed) {
        chunk_failed = false;
        next_replay = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        return;
      }
    }
    if (std::chrono::steady_clock::now() < next_replay)
      return;
    if (chunk.empty()) {
      chunk = spool->read_pending(chunk_records, chunk_end);
      chunk_done.assign(chunk.size(), 0);
      if (chunk.empty()) {
        spooling = false;  // drained: back to producing directly
        return;
      }
    }
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (chunk_done[i])
        continue;
      // A record refused for good is dead-lettered and the chunk goes on:
      // one poison record never holds up the ones behind it.
      if (too_large(chunk[i])) {
        if (dead_letter(chunk[i], "too large"))
          chunk_done[i] = 1;
        else
          chunk_failed = true;
        continue;
      }
      auto err = produce(chunk[i], reinterpret_cast<void*>(static_cast<uintptr_t>(i + 1)));
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        ++chunk_outstanding;
      else if (retriable(err) || !dead_letter(chunk[i], reason_of(err)))
        chunk_failed = true;
      else
        chunk_done[i] = 1;
    }
  }

  void update_gauge() {
    bool cannot_keep = spool->full() || (spool->failing() && (spooling || kafka_failing));
    gauge->spool_full.store(cannot_keep, std::memory_order_relaxed);
    gauge->spool_bytes.store(static_cast<int64_t>(spool->pending_bytes()),
                             std::memory_order_relaxed);
    gauge->dead_letters.store(dead_letters, std::memory_order_relaxed);
    auto& t = telemetry();
    t.kafka_queue.store(rk ? rd_kafka_outq_len(rk) : 0, std::memory_order_relaxed);
    t.kafka_delivery_errors.store(failed_deliveries, std::memory_order_relaxed);
  }
};

namespace {

void delivery_report(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<kafka_state*>(opaque)->on_delivery(m);
}

}  // namespace

bool kafka_state::create_producer() {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
      std::cerr << "kafka: " << k << ": " << errstr << std::endl;
  };
  set("bootstrap.servers", settings.brokers);
  set("enable.idempotence", "true");
  set("message.timeout.ms", std::to_string(settings.message_timeout_ms));
  set("message.max.bytes", std::to_string(settings.max_message_bytes));
  // A topic the cluster does not know fails with UNKNOWN_TOPIC_OR_PART (and
  // is dead-lettered) instead of timing out like an outage (and being
  // retried forever), as long as this is below message.timeout.ms.
  set("topic.metadata.propagation.max.ms",
      std::to_string(std::max(1000, settings.message_timeout_ms / 2)));
  set("linger.ms", "2");
  set("log_level", "2");
  rd_kafka_conf_set_dr_msg_cb(conf, delivery_report);
  rd_kafka_conf_set_opaque(conf, this);
  rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    last_error = errstr;
    std::cerr << "kafka: cannot create producer: " << errstr << std::endl;
    return false;
  }
  return true;
}

kafka_actor::behavior_type
kafka_producer(kafka_actor::stateful_pointer<kafka_state> self, kafka_settings settings) {
  auto& st = self->state;
  st.settings = settings;
  st.gauge = settings.gauge ? settings.gauge : std::make_shared<event_log_gauge>();
  st.spool = std::make_unique<kafka_spool>(settings.spool_path,
                                           static_cast<uint64_t>(settings.spool_max_bytes));
  st.dead = std::make_unique<dead_letter_file>(settings.spool_path + ".dead");
  if (auto err = st.spool->open(); !err.empty()) {
    st.last_error = err;
    std::cerr << "kafka: " << err << std::endl;
  }
  st.create_producer();
  if (!st.spool->empty())
    st.spooling = true;  // left over from the last run: replay it first
  st.update_gauge();
  self->send(self, poll_atom::value);
  return {
    [=](publish_atom, const kafka_event& e) {
      auto& st = self->state;
      st.publish(e);
      st.update_gauge();
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      char why[512];
      if (st.rk && rd_kafka_fatal_error(st.rk, why, sizeof why) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // The idempotent producer cannot go on: replace it. Its queued
        // events come back as purged delivery reports and are spooled.
        std::cerr << "kafka: fatal producer error (" << why << "); starting a new producer"
                  << std::endl;
        st.last_error = why;
        st.destroy_producer(0);
        ++st.producer_restarts;
        st.create_producer();
      }
      if (st.rk) {
        rd_kafka_poll(st.rk, 0);
        if (st.spooling)
          st.replay_step();
      }
      if (!st.spool->sync())
        st.last_error = st.spool->last_error();
      if (!st.dead->sync())
        st.last_error = st.dead->last_error();
      st.update_gauge();
      // Faster while a replay chunk is in flight, so replay outpaces new
      // events.
      auto delay = st.spooling && st.chunk_outstanding > 0 ? std::chrono::milliseconds(2)
                                                           : std::chrono::milliseconds(20);
      self->delayed_send(self, delay, poll_atom::value);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "kafka-producer";
      r.figures = {{"produced", st.produced},
                   {"delivered", st.delivered},
                   {"failed_deliveries", st.failed_deliveries},
                   {"replayed", st.replayed},
                   {"spooling", st.spooling ? 1 : 0},
                   {"spooled_total", st.spool->appended()},
                   {"spool_bytes", static_cast<int64_t>(st.spool->pending_bytes())},
                   {"spool_full", st.gauge->spool_full.load() ? 1 : 0},
                   {"spool_refused", st.spool->refused_full()},
                   {"spool_write_errors", st.spool->write_errors()},
                   {"spool_cut_bytes", static_cast<int64_t>(st.spool->cut_bytes())},
                   {"dead_letters", st.dead_letters},
                   {"dead_letter_write_errors", st.dead_letter_errors},
                   {"lost", st.lost},
                   {"producer_restarts", st.producer_restarts},
                   {"queue_length", st.rk ? rd_kafka_outq_len(st.rk) : 0}};
      r.info["brokers"] = st.settings.brokers;
      r.info["dead_letter_file"] = st.dead->path();
      if (!st.last_error.empty())
        r.info["last_error"] = st.last_error;
      if (!st.last_dead_letter.empty())
        r.info["last_dead_letter"] = st.last_dead_letter;
      if (st.spool->failing())
        r.info["spool_error"] = st.spool->last_error();
      return r;
    },
  };
}

}  // namespace adserver::storage

#include <caf/actor_system.hpp>

namespace adserver::storage {

kafka_actor spawn_kafka_producer(caf::actor_system& sys, kafka_settings settings) {
  return sys.spawn<caf::detached>(kafka_producer, std::move(settings));
}

}  // namespace adserver::storage
