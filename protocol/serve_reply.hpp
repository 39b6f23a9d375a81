#pragma once
// Where an ad request's answer goes when the caller is an HTTP connection,
// not an actor: the auction (or the session shard finishing an experiment
// request) calls it on its own thread, so a request crosses two threads (I/O
// thread -> auction -> I/O thread) instead of passing a bridge actor and the
// directory as well. Local only: never sent to another node.
#include "protocol/records.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>

#include <functional>
#include <memory>

namespace adserver {

class serve_reply {
public:
  using fn = std::function<void(served_ads&&, const caf::error&)>;

  serve_reply() = default;
  explicit serve_reply(fn f);

  /// Answers with the ads; later calls (of any copy) do nothing.
  void operator()(served_ads ads) const;
  /// Answers with the error; later calls do nothing.
  void fail(const caf::error& err) const;

private:
  struct once;
  /// Shared by the copies a message makes. When the last copy goes without
  /// an answer (the message was dropped: its actor ended), the caller hears
  /// UNAVAILABLE then, not only at its deadline.
  std::shared_ptr<once> once_;
};

}  // namespace adserver

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(adserver::serve_reply)
