#include "storage/stream_reader.hpp"

#include "storage/redis_connection.hpp"

#include <chrono>
#include <cstdlib>
#include <algorithm>
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

/// A stream id Redis accepts: "ms-seq" (or "ms"), each part a 64-bit number.
bool valid_id(const std::string& id) {
  auto dash = id.find('-');
  auto part_ok = [](const std::string& p) {
    if (p.empty() || p.size() > 20 || p.find_first_not_of("0123456789") != std::string::npos)
      return false;
    // 20 digits may still exceed 2^64 - 1.
    return p.size() < 20 || p <= "18446744073709551615";
  };
  if (dash == std::string::npos)
    return part_ok(id);
  return part_ok(id.substr(0, dash)) && part_ok(id.substr(dash + 1));
}

/// Reads what arrived after each followed key's oldest subscriber id and
/// hands it out. False when Redis is unreachable.
bool read_once(self_ptr self) {
  auto& st = self->state;
  // Forget subscribers whose client left.
  for (auto it = st.subscribers.begin(); it != st.subscribers.end();) {
    auto& subs = it->second;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [](const stream_subscriber& s) { return s.gone(); }),
               subs.end());
    it = subs.empty() ? st.subscribers.erase(it) : std::next(it);
  }
  if (st.subscribers.empty())
    return true;
  if (!st.conn->connected() && !st.conn->connect().empty())
    return false;
  redis_connection::command cmd{"XREAD", "COUNT", "500", "BLOCK", "250", "STREAMS"};
  std::vector<std::string> ids;
  for (auto& [key, subs] : st.subscribers) {
    cmd.push_back(key);
    auto oldest = subs.front().after_id;
    for (auto& s : subs)
      if (stream_id_less(s.after_id, oldest))
        oldest = s.after_id;
    ids.push_back(oldest);
  }
  cmd.insert(cmd.end(), ids.begin(), ids.end());
  redis_connection::reply rep;
  std::string err;
  if (!st.conn->run(cmd, rep, err))
    return false;
  if (!rep.ok) {
    // Redis answered but refused (a key holding another type, say): that
    // is not an outage. Find the keys it refuses and end their streams,
    // so one bad key never stalls the others.
    ++st.refused;
    for (auto it = st.subscribers.begin(); it != st.subscribers.end();) {
      redis_connection::reply probe;
      std::string probe_err;
      if (!st.conn->run({"XREAD", "COUNT", "1", "STREAMS", it->first, "0-0"}, probe, probe_err))
        return false;
      if (!probe.ok) {
        for (auto& s : it->second)
          s.deliver("", "stream-error", "{\"error\":\"this stream cannot be read\"}");
        it = st.subscribers.erase(it);
      } else {
        ++it;
      }
    }
    return true;
  }
  ++st.reads;
  // [[key, [[id, [field, value, ...]], ...]], ...]; nil when nothing came.
  for (auto& stream : rep.children) {
    if (stream.children.size() != 2)
      continue;
    auto found = st.subscribers.find(stream.children[0].text);
    if (found == st.subscribers.end())
      continue;
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
      for (auto& s : found->second) {
        if (!stream_id_less(s.after_id, id))
          continue;
        s.after_id = id;
        if (s.deliver(id, type, data))
          ++st.delivered;
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
      if (st.count >= st.settings.max_subscribers) {
        ++st.refused;
        sub.deliver("", "stream-error", "{\"error\":\"too many streams on this node\"}");
        return;
      }
      if (!sub.after_id.empty() && !valid_id(sub.after_id))
        sub.after_id.clear();  // unreadable: from now on, like a first visit
      if (sub.after_id.empty()) {
        // From now on: after the newest entry there is. While Redis is
        // away (no connect attempt here: it would stall every watch behind
        // it), from this moment: entry ids are Redis's clock in ms.
        sub.after_id = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count())
                       + "-0";
        redis_connection::reply rep;
        std::string err;
        if (!st.down && (st.conn->connected() || st.conn->connect().empty())
            && st.conn->run({"XREVRANGE", sub.key, "+", "-", "COUNT", "1"}, rep, err) && rep.ok) {
          sub.after_id = "0-0";
          if (!rep.children.empty() && !rep.children[0].children.empty())
            sub.after_id = rep.children[0].children[0].text;
        }
      }
      st.subscribers[sub.key].push_back(std::move(sub));
      ++st.count;
      schedule(self);
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      st.polling = false;
      if (read_once(self)) {
        st.down = false;
      } else {
        st.down = true;
        ++st.failures;
        st.conn->close();
      }
      st.count = 0;
      for (auto& [key, subs] : st.subscribers)
        st.count += subs.size();
      if (!st.subscribers.empty())
        schedule(self);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "stream-reader";
      r.figures = {{"subscribers", static_cast<int64_t>(st.count)},
                   {"streams_followed", static_cast<int64_t>(st.subscribers.size())},
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
