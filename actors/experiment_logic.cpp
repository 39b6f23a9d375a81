#include "actors/experiment_logic.hpp"

#include <nlohmann/json.hpp>

namespace adserver {

bool mapping_in_force(const experiment_mapping& m, const std::string& day) {
  // ISO dates compare correctly as strings.
  return m.audit.activated && m.start_date <= day && day <= m.end_date;
}

std::map<std::string, std::string> apply_experiment(slate& s, const experiment_mappings& mappings,
                                                    const std::string& day) {
  std::map<std::string, const experiment_mapping*> by_original;
  for (auto& m : mappings) {
    if (!mapping_in_force(m, day))
      continue;
    auto& slot = by_original[m.original_product_id];
    if (slot == nullptr || slot->id < m.id)
      slot = &m;
  }
  std::map<std::string, std::string> swapped;
  for (auto& ad : s.ads) {
    auto it = by_original.find(ad.original_product_id);
    if (it == by_original.end())
      continue;
    ad.product_id = it->second->experiment_product_id;
    swapped[ad.product_id] = ad.original_product_id;
  }
  return swapped;
}

bool remember_codes(session_mapping& m, const ad_request& req,
                    const std::map<std::string, std::string>& swapped, int64_t now,
                    int64_t ttl_seconds, size_t max_codes) {
  bool changed = m.session_id != req.session_id || m.exp_key != req.exp_key
                 || m.exp_var != req.exp_var || now >= m.expires_at;
  if (now >= m.expires_at)
    m.codes.clear();
  m.session_id = req.session_id;
  m.exp_key = req.exp_key;
  m.exp_var = req.exp_var;
  for (auto& [code, original] : swapped) {
    if (m.codes.count(code) == 0 && m.codes.size() >= max_codes)
      continue;
    auto [it, inserted] = m.codes.emplace(code, original);
    if (inserted || it->second != original) {
      it->second = original;
      changed = true;
    }
  }
  if (changed)
    m.expires_at = now + ttl_seconds;
  return changed;
}

std::string session_mapping_value(const session_mapping& m) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [code, original] : m.codes)
    j[code] = original;
  // Never throws: codes are checked UTF-8, and one that is not is replaced.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

size_t session_shard(const std::string& session_id, size_t shards) {
  // FNV-1a: std::hash differs between builds, shards must not.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : session_id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return shards == 0 ? 0 : static_cast<size_t>(h % shards);
}

}  // namespace adserver
