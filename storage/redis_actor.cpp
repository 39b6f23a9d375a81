#include "storage/redis_actor.hpp"

#include "config/log.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "storage/io_health.hpp"
#include "storage/redis_connection.hpp"

#include <chrono>
#include <cstdio>

namespace adserver::storage {

namespace {

/// The mirror's backlog and its age, for /metrics.
void publish_backlog(redis_state& st) {
  auto n = static_cast<int64_t>(st.pending.size() + st.pending_zsets.size()
                                + st.pending_streams.size());
  if (n == 0)
    st.pending_since_ms = 0;
  else if (st.pending_since_ms == 0)
    st.pending_since_ms = epoch_millis();
  auto& t = telemetry();
  t.redis_queue.store(n, std::memory_order_relaxed);
  t.redis_oldest_pending_ms.store(st.pending_since_ms, std::memory_order_relaxed);
}

void mark_down(redis_state& st, bool down) {
  st.down = down;
  if (st.settings.health)
    st.settings.health->redis.store(!down, std::memory_order_relaxed);
}


constexpr size_t max_pipeline = 1024;
constexpr size_t max_streamed_per_flush = 4096;

/// Errors Redis gives while it cannot serve yet (still loading its AOF after
/// a restart, busy script, failover): retry later rather than drop the value.
bool transient(const redis_connection::reply& r) {
  if (r.ok)
    return false;
  for (auto prefix : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"})
    if (r.text.rfind(prefix, 0) == 0)
      return true;
  return false;
}

/// SET of a JSON object merged into the object stored under the key: keys
/// stored and absent from the new value are kept (two nodes' writes of one
/// session's experiment codes, or a new owner's first write, lose nothing).
/// ARGV[2] > 0: the TTL in seconds.
constexpr const char* merge_script = R"(
local v = cjson.decode(ARGV[1])
local old = redis.call('GET', KEYS[1])
if old then
  local ok, o = pcall(cjson.decode, old)
  if ok and type(o) == 'table' then
    for k, x in pairs(o) do
      if v[k] == nil then v[k] = x end
    end
  end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], cjson.encode(v), 'EX', ARGV[2])
else
  redis.call('SET', KEYS[1], cjson.encode(v))
end
return 1
)";

/// SET key value [EX ttl] for a pending value.
redis_connection::command plain_set(const std::string& key, const redis_state::value& v) {
  redis_connection::command cmd{"SET", key, v.data};
  if (v.ttl_seconds > 0) {
    cmd.push_back("EX");
    cmd.push_back(std::to_string(v.ttl_seconds));
  }
  return cmd;
}

/// Writes pending keys; false when Redis is unreachable or not ready.
bool write_pending(redis_state& st) {
  if (!st.conn->connected() && !st.conn->connect().empty())
    return false;
  while (!st.pending_zsets.empty()) {
    auto it = st.pending_zsets.begin();
    // MULTI/EXEC: readers never see the set half replaced.
    std::vector<redis_connection::command> cmds{{"MULTI"}, {"DEL", it->first}};
    if (!it->second.members.empty()) {
      redis_connection::command zadd{"ZADD", it->first};
      for (size_t i = 0; i < it->second.members.size(); ++i) {
        char score[64];
        std::snprintf(score, sizeof score, "%.17g", it->second.scores[i]);
        zadd.push_back(score);
        zadd.push_back(it->second.members[i]);
      }
      cmds.push_back(std::move(zadd));
    }
    cmds.push_back({"EXEC"});
    std::vector<redis_connection::reply> replies;
    std::string err;
    if (!st.conn->pipeline(cmds, replies, err))
      return false;
    for (auto& r : replies)
      if (transient(r))
        return false;
    ++st.writes;
    st.pending_zsets.erase(it);
  }
  while (!st.pending.empty()) {
    std::vector<redis_connection::command> cmds;
    std::vector<std::string> keys;
    for (auto it = st.pending.begin(); it != st.pending.end() && cmds.size() < max_pipeline;
         ++it) {
      auto cmd = it->second.merge
                   ? redis_connection::command{"EVAL", merge_script, "1", it->first,
                                               it->second.data,
                                               std::to_string(it->second.ttl_seconds)}
                   : plain_set(it->first, it->second);
      cmds.push_back(std::move(cmd));
      keys.push_back(it->first);
    }
    std::vector<redis_connection::reply> replies;
    std::string err;
    if (!st.conn->pipeline(cmds, replies, err))
      return false;
    for (auto& r : replies)
      if (transient(r))
        return false;  // nothing dropped: the whole batch is written again
    // A merge Redis refuses (scripting not allowed, or the key holds another
    // type) is written as a plain SET instead: the newest value, not nothing.
    std::vector<redis_connection::command> plain;
    for (size_t i = 0; i < keys.size(); ++i) {
      auto& v = st.pending.at(keys[i]);
      if (replies[i].ok) {
        ++st.writes;
      } else if (v.merge) {
        plain.push_back(plain_set(keys[i], v));
        if (!st.merge_refused_logged) {
          st.merge_refused_logged = true;
          log_line(log_level::warn, "redis_merge_refused",
                   {{"key", keys[i]}, {"reply", replies[i].text}});
        }
      } else {
        ++st.failures;  // a rejected value will not get better by retrying
      }
      st.pending.erase(keys[i]);
    }
    if (!plain.empty()) {
      std::vector<redis_connection::reply> plain_replies;
      if (!st.conn->pipeline(plain, plain_replies, err))
        return false;  // the values are gone from pending: the next write of the key repairs it
      for (auto& r : plain_replies) {
        if (r.ok)
          ++st.writes;
        else
          ++st.failures;
      }
    }
  }
  // Dashboard stream entries after the money mirror, and a bounded number
  // per flush: a backlog after an outage never delays balances.
  size_t streamed = 0;
  while (!st.pending_streams.empty() && streamed < max_streamed_per_flush) {
    std::vector<redis_connection::command> cmds;
    for (size_t i = 0; i < st.pending_streams.size() && cmds.size() < max_pipeline; ++i) {
      auto& e = st.pending_streams[i];
      redis_connection::command cmd{"XADD", e.key};
      if (e.maxlen > 0) {
        cmd.push_back("MAXLEN");
        cmd.push_back("~");
        cmd.push_back(std::to_string(e.maxlen));
      }
      cmd.push_back("*");
      cmd.insert(cmd.end(), e.fields.begin(), e.fields.end());
      cmds.push_back(std::move(cmd));
    }
    std::vector<redis_connection::reply> replies;
    std::string err;
    if (!st.conn->pipeline(cmds, replies, err))
      return false;
    // Written in order: stop at the first transient refusal, keep the rest.
    for (size_t i = 0; i < cmds.size(); ++i) {
      if (transient(replies[i]))
        return false;
      if (replies[i].ok)
        ++st.writes;
      else
        ++st.failures;
      st.pending_streams.pop_front();
      ++streamed;
    }
  }
  return true;
}

/// Something was queued: flush it after the messages already waiting (unless
/// Redis is down: the reconnect replays it), and publish the backlog.
void flush_soon(redis_actor::stateful_pointer<redis_state> self) {
  auto& st = self->state;
  if (!st.down && !st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  publish_backlog(st);
}

}  // namespace

redis_actor::behavior_type
redis_writer(redis_actor::stateful_pointer<redis_state> self, redis_settings settings) {
  self->state.settings = settings;
  self->state.conn = std::make_shared<redis_connection>(settings.host, settings.port, 500);
  mark_down(self->state, !self->state.conn->connect().empty());
  if (self->state.down)
    self->delayed_send(self, std::chrono::seconds(1), poll_atom::value);
  return {
    [=](get_atom, std::vector<std::string>& keys) -> caf::result<std::vector<std::string>> {
      auto& st = self->state;
      if (keys.empty())
        return std::vector<std::string>{};
      // While down, answer at once: readers have defaults, and a connect
      // attempt per read would stall the writes queued behind it.
      if (st.down)
        return make_error(ec::unavailable, "redis is unreachable");
      std::string err;
      if (!st.conn->connected() && !st.conn->connect().empty())
        err = "redis is unreachable";
      redis_connection::command cmd{"MGET"};
      cmd.insert(cmd.end(), keys.begin(), keys.end());
      redis_connection::reply rep;
      if (err.empty() && st.conn->run(cmd, rep, err)) {
        if (!rep.ok)
          return make_error(ec::unavailable, "redis refused the read: " + rep.text);
        ++st.reads;
        rep.elements.resize(keys.size());
        return std::move(rep.elements);
      }
      mark_down(st, true);
      ++st.failures;
      self->delayed_send(self, std::chrono::seconds(1), poll_atom::value);
      return make_error(ec::unavailable, "redis read failed: " + err);
    },
    [=](set_atom, std::string& key, std::string& value, int64_t ttl, bool merge) {
      auto& st = self->state;
      st.pending[std::move(key)] = {std::move(value), ttl, merge};
      flush_soon(self);
    },
    [=](set_atom, std::string& key, std::string& value, int64_t ttl) {
      auto& st = self->state;
      st.pending[std::move(key)] = {std::move(value), ttl, false};
      flush_soon(self);
    },
    [=](zset_atom, std::string& key, std::vector<std::string>& members,
        std::vector<double>& scores) {
      auto& st = self->state;
      st.pending_zsets[std::move(key)] = {std::move(members), std::move(scores)};
      flush_soon(self);
    },
    [=](xadd_atom, std::string& key, std::vector<std::string>& fields, int64_t maxlen) {
      auto& st = self->state;
      if (st.pending_streams.size() >= redis_state::max_pending_streams) {
        st.pending_streams.pop_front();
        ++st.stream_entries_dropped;
      }
      st.pending_streams.push_back({std::move(key), std::move(fields), maxlen});
      flush_soon(self);
    },
    [=](flush_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      st.flush_scheduled = false;
      if (st.down)
        return;
      if (!write_pending(st)) {
        mark_down(st, true);
        ++st.failures;
        self->delayed_send(self, std::chrono::seconds(1), poll_atom::value);
      } else if (!st.pending_streams.empty() && !st.flush_scheduled) {
        st.flush_scheduled = true;  // the rest of a backlog, after other messages
        self->send(self, flush_atom::value);
      }
      publish_backlog(st);
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      if (!st.down)
        return;
      if (write_pending(st)) {
        mark_down(st, false);
        ++st.resyncs;
      } else {
        self->delayed_send(self, std::chrono::seconds(1), poll_atom::value);
      }
      publish_backlog(st);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "redis-writer";
      r.figures = {{"connected", st.down ? 0 : 1},
                   {"writes", st.writes},
                   {"reads", st.reads},
                   {"failures", st.failures},
                   {"resyncs", st.resyncs},
                   {"pending_keys", static_cast<int64_t>(st.pending.size()
                                                         + st.pending_zsets.size())},
                   {"pending_stream_entries", static_cast<int64_t>(st.pending_streams.size())},
                   {"stream_entries_dropped", st.stream_entries_dropped}};
      return r;
    },
  };
}

}  // namespace adserver::storage
