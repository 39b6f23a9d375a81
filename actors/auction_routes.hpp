#pragma once
// The node's running auctions by key, and what campaigns target, published
// by the auction router (its only writer) for the I/O threads: an ad request
// whose auction runs goes straight to it, with no actor in between; one no
// campaign can match is answered at once; only a request whose auction is not
// running yet goes to the router, which spawns it.
#include "actors/targeting_index.hpp"
#include "protocol/interfaces.hpp"

#include <pthread.h>

#include <atomic>
#include <string>
#include <unordered_map>

namespace adserver {

/// A reader-writer lock that lets a waiting writer in before new readers
/// (std::shared_mutex on glibc prefers readers: a steady stream of ad
/// requests could keep the auction router, a CAF worker thread, waiting).
class writer_preferring_lock {
public:
  writer_preferring_lock();
  ~writer_preferring_lock();
  writer_preferring_lock(const writer_preferring_lock&) = delete;
  writer_preferring_lock& operator=(const writer_preferring_lock&) = delete;
  void lock();
  void unlock();
  void lock_shared();
  void unlock_shared();

private:
  pthread_rwlock_t rw_;
};

class auction_routes {
public:
  enum class outcome {
    unmatched,    // no campaign targets the request: the answer is no ads
    sent,         // in its auction's mailbox; the auction answers `reply`
    not_running,  // ask the auction router
  };

  /// Routes `req`. The message is enqueued under the read lock, so it is in
  /// the auction's mailbox before the router can forget and retire that
  /// auction (retire_atom always comes after it).
  outcome serve(ad_request& req, serve_reply& reply) const;

  /// The key of the auction serving `req`; false when no campaign can match
  /// it (before the first targeting load every request may match).
  bool key_for(const ad_request& req, std::string& key) const;

  // -- the auction router's side -------------------------------------------
  void add_targeting(const std::vector<std::string>& keywords,
                     const std::vector<std::string>& categories);
  void set_targeting_loaded();
  void put(const std::string& key, const auction_actor& auction);
  /// Forgets `key` if `auction` still serves it.
  void remove(const std::string& key, const auction_actor& auction);

  bool targeting_loaded() const;
  int64_t targeted_terms() const;
  /// Requests answered without an auction.
  int64_t unmatched() const { return unmatched_.load(std::memory_order_relaxed); }

private:
  bool key_locked(const ad_request& req, std::string& key) const;

  mutable writer_preferring_lock mtx_;
  targeting_index targeting_;
  bool loaded_ = false;
  std::unordered_map<std::string, auction_actor> auctions_;
  mutable std::atomic<int64_t> unmatched_{0};
};

}  // namespace adserver
