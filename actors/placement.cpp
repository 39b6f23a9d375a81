#include "actors/placement.hpp"

namespace adserver {

uint64_t placement_score(const std::string& node, const std::string& key) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (char c : node)
    mix(static_cast<unsigned char>(c));
  mix('/');
  for (char c : key)
    mix(static_cast<unsigned char>(c));
  // FNV alone spreads similar keys poorly over few nodes.
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

std::string rendezvous_owner(const std::vector<std::string>& nodes, const std::string& key) {
  std::string best;
  uint64_t best_score = 0;
  for (auto& n : nodes) {
    auto score = placement_score(n, key);
    if (best.empty() || score > best_score || (score == best_score && n < best)) {
      best = n;
      best_score = score;
    }
  }
  return best;
}

std::string advertiser_key(int64_t advertiser_id) {
  return "advertiser:" + std::to_string(advertiser_id);
}

std::string session_key(const std::string& session_id) {
  return "session:" + session_id;
}

}  // namespace adserver
