#pragma once
// Request deadlines in the actors: answering before a deadline, waiting for
// acknowledgements no longer than it allows (protocol/deadline.hpp: passed).
#include "protocol/business_time.hpp"
#include "protocol/deadline.hpp"
#include "protocol/errors.hpp"
#include "protocol/records.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

namespace adserver {

/// The answer for work dropped at its deadline (the client has its 503).
inline caf::error deadline_passed() {
  return make_error(ec::unavailable, "request deadline passed; nothing applied");
}

/// How long to wait for an acknowledgement before answering work due at
/// `due`: `limit`, or less, so the answer still goes out before the client
/// is told 503 (<= 0: answer now).
inline std::chrono::milliseconds ack_wait(const deadline& due, std::chrono::milliseconds limit) {
  if (due.at_ms == 0)
    return limit;
  return std::min(limit, std::chrono::milliseconds(due.at_ms - epoch_millis() - 20));
}

/// Tells `dest` a committed change (`xs...`), then calls `answer` once `dest`
/// has it in its mailbox, or after `limit`, or just before `due`, whichever
/// comes first: a change is answered only when the next request its client
/// sends sees it, and never after its client was told 503. (A template: the
/// state owners that use it are typed actors of different kinds.)
template <class Self, class Dest, class Answer, class... Ts>
void tell_then_answer(Self* self, const Dest& dest, const deadline& due,
                      std::chrono::milliseconds limit, Answer answer, Ts&&... xs) {
  auto wait = ack_wait(due, limit);
  if (wait.count() <= 0) {
    self->send(dest, std::forward<Ts>(xs)...);
    answer();
    return;
  }
  self->request(dest, wait, std::forward<Ts>(xs)...)
    .then([answer]() mutable { answer(); }, [answer](caf::error&) mutable { answer(); });
}

/// Sends `xs...` as a request to each of `dests`, then calls `done` once
/// every one has answered or failed (each within `limit`); at once when
/// there are none. Used to answer a change only when the peers have it.
template <class Self, class Dests, class Done, class... Ts>
void ask_all_then(Self* self, const Dests& dests, std::chrono::milliseconds limit, Done done,
                  const Ts&... xs) {
  if (dests.empty()) {
    done();
    return;
  }
  auto left = std::make_shared<size_t>(dests.size());
  auto one_done = [left, done]() mutable {
    if (--*left == 0)
      done();
  };
  for (auto& dest : dests)
    self->request(dest, limit, xs...)
      .then(one_done, [one_done](caf::error&) mutable { one_done(); });
}

/// ask_all_then for work due at `due`: waits at most ack_wait(due, limit),
/// and with no time left sends `xs...` to each and calls `done` at once (the
/// answer still goes out before its client is told 503).
template <class Self, class Dests, class Done, class... Ts>
void ask_all_then_before(Self* self, const Dests& dests, const deadline& due,
                         std::chrono::milliseconds limit, Done done, const Ts&... xs) {
  auto wait = ack_wait(due, limit);
  if (wait.count() <= 0) {
    for (auto& dest : dests)
      self->send(dest, xs...);
    done();
    return;
  }
  ask_all_then(self, dests, wait, std::move(done), xs...);
}

}  // namespace adserver
