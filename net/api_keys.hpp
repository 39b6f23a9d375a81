#pragma once
// Advertiser API keys as the HTTP layer checks them: SHA-256 of the key ->
// (advertiser, key id). A credential cache like the admin token table, not
// business state: PostgreSQL (advertiser_api_keys) is the record; the admin
// routes update this after each committed issue or revoke, and the server
// loads it at start and every api_keys_refresh (keys revoked by hand too).
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace adserver::net {

struct api_key_owner {
  int64_t advertiser_id = 0;
  int64_t key_id = 0;
};

/// Keys look like "ak_" + 48 hex digits.
bool looks_like_api_key(const std::string& presented);
/// A new random key.
std::string new_api_key();
/// Lower-case hex SHA-256 (what the table stores).
std::string sha256_hex(const std::string& text);

class api_key_registry {
public:
  /// The owner of a presented key, if it is a live key.
  std::optional<api_key_owner> find(const std::string& presented) const;
  void add(const std::string& key_hash, api_key_owner owner);
  void revoke(int64_t key_id);
  /// Changes so far (add() counts): taken before reading the table.
  uint64_t generation() const;
  /// Replaces everything with what the table held when generation() was
  /// `read_at`; keys added since stay (their insert may postdate the read),
  /// keys revoked since stay out.
  void replace(std::vector<std::pair<std::string, api_key_owner>> all, uint64_t read_at);
  size_t size() const;

private:
  mutable std::shared_mutex mutex_;
  struct entry {
    api_key_owner owner;
    uint64_t added_at = 0;  // generation of add(); 0: from a table read
  };
  std::unordered_map<std::string, entry> by_hash_;
  uint64_t generation_ = 0;
  std::unordered_set<int64_t> revoked_;
};

}  // namespace adserver::net
