#include "storage/kafka_actor.hpp"

#include "storage/kafka_spool.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <caf/typed_event_based_actor.hpp>

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

struct kafka_state {
  kafka_settings settings;
  rd_kafka_t* rk = nullptr;
  std::unique_ptr<kafka_spool> spool;
  // While true every new event goes to the spool, so order is kept until the
  // spool has drained.
  bool spooling = false;
  // Replay of one chunk of the spool: each record is produced once and the
  // chunk is marked delivered only when all of it is.
  std::vector<kafka_event> chunk;
  std::vector<char> chunk_delivered;
  uint64_t chunk_end = 0;
  size_t chunk_outstanding = 0;
  bool chunk_failed = false;
  std::chrono::steady_clock::time_point next_replay;
  int64_t produced = 0;
  int64_t delivered = 0;
  int64_t failed_deliveries = 0;
  int64_t replayed = 0;
  std::string last_error;
  static inline const char* name = "kafka-producer";

  ~kafka_state() {
    if (!rk)
      return;
    rd_kafka_flush(rk, 3000);
    // Whatever is still queued is spooled by its (purged) delivery report.
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 100);
    if (spool)
      spool->sync();
    rd_kafka_destroy(rk);
  }

  void start_spooling() {
    spooling = true;
    next_replay = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  }

  void to_spool(const kafka_event& e) {
    spool->append(e);
    if (!spooling)
      start_spooling();
  }

  bool produce(const kafka_event& e, void* opaque) {
    auto err = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(e.topic.c_str()),
      RD_KAFKA_V_KEY(const_cast<char*>(e.key.data()), e.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(e.payload.data()), e.payload.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = rd_kafka_err2str(err);
      return false;
    }
    ++produced;
    return true;
  }

  void on_delivery(const rd_kafka_message_t* m) {
    auto index = reinterpret_cast<uintptr_t>(m->_private);
    if (index != 0) {  // a replayed record
      --chunk_outstanding;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        chunk_delivered[index - 1] = 1;
        ++delivered;
        ++replayed;
      } else {
        chunk_failed = true;
        ++failed_deliveries;
        last_error = rd_kafka_err2str(m->err);
      }
      return;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++delivered;
      return;
    }
    ++failed_deliveries;
    last_error = rd_kafka_err2str(m->err);
    kafka_event e;
    e.topic = rd_kafka_topic_name(m->rkt);
    if (m->key)
      e.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload)
      e.payload.assign(static_cast<const char*>(m->payload), m->len);
    to_spool(e);
  }

  void replay_step() {
    if (chunk_outstanding > 0)
      return;
    if (!chunk.empty()) {
      bool all = true;
      for (char d : chunk_delivered)
        all = all && d;
      if (all) {
        spool->mark_delivered(chunk_end);
        chunk.clear();
      } else if (chunk_failed) {
        chunk_failed = false;
        next_replay = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        return;
      }
    }
    if (std::chrono::steady_clock::now() < next_replay)
      return;
    if (chunk.empty()) {
      chunk = spool->read_pending(500, chunk_end);
      chunk_delivered.assign(chunk.size(), 0);
      if (chunk.empty()) {
        spooling = false;  // drained: back to producing directly
        return;
      }
    }
    for (size_t i = 0; i < chunk.size(); ++i)
      if (!chunk_delivered[i]) {
        if (produce(chunk[i], reinterpret_cast<void*>(static_cast<uintptr_t>(i + 1))))
          ++chunk_outstanding;
        else
          chunk_failed = true;
      }
  }
};

namespace {

void delivery_report(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<kafka_state*>(opaque)->on_delivery(m);
}

}  // namespace

kafka_actor::behavior_type
kafka_producer(kafka_actor::stateful_pointer<kafka_state> self, kafka_settings settings) {
  auto& st = self->state;
  st.settings = settings;
  st.spool = std::make_unique<kafka_spool>(settings.spool_path);
  if (auto err = st.spool->open(); !err.empty())
    std::cerr << "kafka: " << err << std::endl;
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* k, const std::string& v) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
      std::cerr << "kafka: " << k << ": " << errstr << std::endl;
  };
  set("bootstrap.servers", settings.brokers);
  set("enable.idempotence", "true");
  set("message.timeout.ms", std::to_string(settings.message_timeout_ms));
  set("linger.ms", "2");
  set("log_level", "2");
  rd_kafka_conf_set_dr_msg_cb(conf, delivery_report);
  rd_kafka_conf_set_opaque(conf, &st);
  st.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!st.rk)
    std::cerr << "kafka: cannot create producer: " << errstr << std::endl;
  if (!st.spool->empty())
    st.spooling = true;  // left over from the last run: replay it first
  self->send(self, poll_atom::value);
  return {
    [=](publish_atom, const kafka_event& e) {
      auto& st = self->state;
      if (st.spooling || !st.rk || !st.produce(e, nullptr))
        st.to_spool(e);
    },
    [=](poll_atom) {
      auto& st = self->state;
      if (st.rk) {
        rd_kafka_poll(st.rk, 0);
        if (st.spooling)
          st.replay_step();
      }
      st.spool->sync();
      self->delayed_send(self, std::chrono::milliseconds(20), poll_atom::value);
    },
    [=](status_atom) {
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
                   {"queue_length", st.rk ? rd_kafka_outq_len(st.rk) : 0}};
      r.info["brokers"] = st.settings.brokers;
      if (!st.last_error.empty())
        r.info["last_error"] = st.last_error;
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
