#include "actors/auction_routes.hpp"

#include "actors/validation.hpp"

#include <caf/send.hpp>

#include <mutex>
#include <shared_mutex>

namespace adserver {

writer_preferring_lock::writer_preferring_lock() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&rw_, &attr);
  pthread_rwlockattr_destroy(&attr);
}

writer_preferring_lock::~writer_preferring_lock() {
  pthread_rwlock_destroy(&rw_);
}

void writer_preferring_lock::lock() {
  pthread_rwlock_wrlock(&rw_);
}

void writer_preferring_lock::unlock() {
  pthread_rwlock_unlock(&rw_);
}

void writer_preferring_lock::lock_shared() {
  pthread_rwlock_rdlock(&rw_);
}

void writer_preferring_lock::unlock_shared() {
  pthread_rwlock_unlock(&rw_);
}

bool auction_routes::key_locked(const ad_request& req, std::string& key) const {
  if (loaded_ && !targeting_.may_match(req))
    return false;
  // Auctions are keyed by what campaigns target, not by what was asked (the
  // request keeps its own category for tokens and events).
  key = loaded_ && req.placement == "CATEGORY"
          ? "CATEGORY:" + targeting_.targeted_category(req.category)
          : auction_key(req);
  return true;
}

auction_routes::outcome auction_routes::serve(ad_request& req, serve_reply& reply) const {
  std::shared_lock<writer_preferring_lock> lock{mtx_};
  std::string key;
  if (!key_locked(req, key)) {
    unmatched_.fetch_add(1, std::memory_order_relaxed);
    return outcome::unmatched;
  }
  auto it = auctions_.find(key);
  if (it == auctions_.end())
    return outcome::not_running;
  caf::anon_send(it->second, serve_atom::value, std::move(req), std::move(reply));
  return outcome::sent;
}

bool auction_routes::key_for(const ad_request& req, std::string& key) const {
  std::shared_lock<writer_preferring_lock> lock{mtx_};
  return key_locked(req, key);
}

void auction_routes::add_targeting(const std::vector<std::string>& keywords,
                                   const std::vector<std::string>& categories) {
  std::unique_lock<writer_preferring_lock> lock{mtx_};
  targeting_.add(keywords, categories);
}

void auction_routes::set_targeting_loaded() {
  std::unique_lock<writer_preferring_lock> lock{mtx_};
  loaded_ = true;
}

void auction_routes::put(const std::string& key, const auction_actor& auction) {
  std::unique_lock<writer_preferring_lock> lock{mtx_};
  auctions_[key] = auction;
}

void auction_routes::remove(const std::string& key, const auction_actor& auction) {
  std::unique_lock<writer_preferring_lock> lock{mtx_};
  auto it = auctions_.find(key);
  if (it != auctions_.end() && it->second == auction)
    auctions_.erase(it);
}

bool auction_routes::targeting_loaded() const {
  std::shared_lock<writer_preferring_lock> lock{mtx_};
  return loaded_;
}

int64_t auction_routes::targeted_terms() const {
  std::shared_lock<writer_preferring_lock> lock{mtx_};
  return static_cast<int64_t>(targeting_.size());
}

}  // namespace adserver
