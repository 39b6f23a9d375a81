#include "net/api_keys.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <mutex>

namespace adserver::net {

namespace {

std::string hex(const unsigned char* data, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

}  // namespace

bool looks_like_api_key(const std::string& s) {
  if (s.size() != 51 || s.rfind("ak_", 0) != 0)
    return false;
  for (size_t i = 3; i < s.size(); ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

std::string new_api_key() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    return {};
  return "ak_" + hex(bytes, sizeof bytes);
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  return hex(digest, len);
}

std::optional<api_key_owner> api_key_registry::find(const std::string& presented) const {
  if (!looks_like_api_key(presented))
    return std::nullopt;
  // Looked up by hash: the table never holds a key, and a lookup by a
  // digest leaks nothing useful through its timing.
  auto h = sha256_hex(presented);
  std::shared_lock lock{mutex_};
  auto it = by_hash_.find(h);
  if (it == by_hash_.end())
    return std::nullopt;
  return it->second.owner;
}

void api_key_registry::add(const std::string& key_hash, api_key_owner owner) {
  std::unique_lock lock{mutex_};
  by_hash_[key_hash] = {owner, ++generation_};
}

uint64_t api_key_registry::generation() const {
  std::shared_lock lock{mutex_};
  return generation_;
}

void api_key_registry::revoke(int64_t key_id) {
  std::unique_lock lock{mutex_};
  revoked_.insert(key_id);
  for (auto it = by_hash_.begin(); it != by_hash_.end();)
    it = it->second.owner.key_id == key_id ? by_hash_.erase(it) : std::next(it);
}

void api_key_registry::replace(std::vector<std::pair<std::string, api_key_owner>> all,
                               uint64_t read_at) {
  std::unordered_map<std::string, entry> fresh;
  std::unique_lock lock{mutex_};
  // A reload that read the table before a revoke committed must not bring
  // the key back; one that read it before an issue committed must not drop it.
  for (auto& [h, owner] : all)
    if (!revoked_.count(owner.key_id))
      fresh[h] = {owner, 0};
  for (auto& [h, e] : by_hash_)
    if (e.added_at > read_at)
      fresh[h] = e;
  by_hash_.swap(fresh);
}

size_t api_key_registry::size() const {
  std::shared_lock lock{mutex_};
  return by_hash_.size();
}

}  // namespace adserver::net
