#include "storage/stream_reader.hpp"

#include "storage/redis_connection.hpp"

#include <chrono>
#include <cstdlib>
#include <map>

namespace adserver::storage {

namespace {

using self_ptr = stream_reader_actor::stateful_pointer<stream_reader_state>;

std::pair<uint64_t, uint64_t> split_id(const std::string& id) {
  auto dash = id.find('-');
  uint64_t ms = std::strtoull(id.c_str(), nullptr, 10);
  uint64_t seq = dash == std::string::npos ? 0 : std::strtoull(id.c_str() + dash + 1, nullptr, 10);
  return {ms, seq};
}

/// A valid stream id "ms-seq" (or "ms").
bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 41)
    return false;
  int dashes = 0;
  for (char c : id) {
    if (c == '-')
      ++dashes;
    else if (c < '0' || c > '9')
      return false;
  }
  return dashes <= 1 && id.front() != '-' && id.back() != '-';
}

/// Reads what arrived after each followed key's oldest subscriber id and
/// hands it out. False when Redis is unreachable.
bool read_once(self_ptr self) {
  auto& st = self->state;
  // Forget subscribers whose client left.
  std::vector<stream_subscriber> live;
  for (auto& s : st.subscribers)
    if (!s.gone())
      live.push_back(std::move(s));
  st.subscribers.swap(live);
  if (st.subscribers.empty())
    return true;
  if (!st.conn->connected() && !st.conn->connect().empty())
    return false;
  std::map<std::string, std::string> from;  // key -> oldest id among its subscribers
  for (auto& s : st.subscribers) {
    auto it = from.find(s.key);
    if (it == from.end() || stream_id_less(s.after_id, it->second))
      from[s.key] = s.after_id;
  }
  redis_connection::command cmd{"XREAD", "COUNT", "500", "BLOCK", "250", "STREAMS"};
  for (auto& [key, id] : from)
    cmd.push_back(key);
  for (auto& [key, id] : from)
    cmd.push_back(id);
  redis_connection::reply rep;
  std::string err;
  if (!st.conn->run(cmd, rep, err) || !rep.ok)
    return false;
  ++st.reads;
  // [[key, [[id, [field, value, ...]], ...]], ...]; nil when nothing came.
  for (auto& stream : rep.children) {
    if (stream.children.size() != 2)
      continue;
    auto& key = stream.children[0].text;
    for (auto& entry : stream.children[1].children) {
      if (entry.children.size() != 2)
        continue;
      auto& id = entry.children[0].text;
      std::string type = "campaign-event", data;
      auto& fields = entry.children[1].elements;
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        if (fields[i] == "type")
          type = fields[i + 1];
        else if (fields[i] == "data")
          data = fields[i + 1];
      }
      for (auto& s : st.subscribers) {
        if (s.key != key || !stream_id_less(s.after_id, id))
          continue;
        s.after_id = id;
        if (s.deliver(id, type, data))
          ++st.delivered;
        else
          s.gone = [] { return true; };
      }
    }
  }
  return true;
}

void schedule(self_ptr self) {
  auto& st = self->state;
  if (st.polling)
    return;
  st.polling = true;
  if (st.down)
    self->delayed_send(self, std::chrono::seconds(1), poll_atom::value);
  else
    self->send(self, poll_atom::value);
}

}  // namespace

bool stream_id_less(const std::string& a, const std::string& b) {
  return split_id(a) < split_id(b);
}

stream_reader_actor::behavior_type stream_reader(self_ptr self, stream_reader_settings settings) {
  self->state.settings = settings;
  // A short socket timeout would cut XREAD's 250 ms block; give it margin.
  self->state.conn = std::make_shared<redis_connection>(settings.host, settings.port, 2000);
  return {
    [=](watch_atom, stream_subscriber& sub) {
      auto& st = self->state;
      if (st.subscribers.size() >= st.settings.max_subscribers) {
        ++st.refused;
        sub.deliver("", "stream-error", "{\"error\":\"too many streams on this node\"}");
        return;
      }
      if (!sub.after_id.empty() && !valid_id(sub.after_id))
        sub.after_id.clear();
      if (sub.after_id.empty()) {
        // From now on: after the newest entry there is (0-0 when none).
        sub.after_id = "0-0";
        redis_connection::reply rep;
        std::string err;
        if ((st.conn->connected() || st.conn->connect().empty())
            && st.conn->run({"XREVRANGE", sub.key, "+", "-", "COUNT", "1"}, rep, err) && rep.ok
            && !rep.children.empty() && !rep.children[0].children.empty())
          sub.after_id = rep.children[0].children[0].text;
        else if (!err.empty())
          // Redis away: start at this moment's ids (entries are stamped
          // with Redis's clock in ms).
          sub.after_id = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count())
                         + "-0";
      }
      st.subscribers.push_back(std::move(sub));
      schedule(self);
    },
    [=](poll_atom) {
      auto& st = self->state;
      st.polling = false;
      if (read_once(self)) {
        st.down = false;
      } else {
        st.down = true;
        ++st.failures;
        st.conn->close();
      }
      if (!st.subscribers.empty())
        schedule(self);
    },
    [=](status_atom) {
      auto& st = self->state;
      status_record r;
      r.kind = "stream-reader";
      r.figures = {{"subscribers", static_cast<int64_t>(st.subscribers.size())},
                   {"delivered", st.delivered},
                   {"reads", st.reads},
                   {"failures", st.failures},
                   {"refused", st.refused},
                   {"connected", st.down ? 0 : 1}};
      return r;
    },
  };
}

}  // namespace adserver::storage
