#pragma once
// Price-experiment post-processing (seed 000 step 4), free of actors: which
// mappings are in force, swapping product codes, the session's Redis value.
#include "protocol/records.hpp"

namespace adserver {

/// Activated and start_date <= day <= end_date (all YYYY-MM-DD).
bool mapping_in_force(const experiment_mapping& m, const std::string& day);

/// Serves each ad whose original product has a mapping in force on `day`
/// under that mapping's experiment code (`mappings` are one exp_key/exp_var;
/// of overlapping ones the newest wins). Returns experiment code -> original
/// for every code it swapped in.
std::map<std::string, std::string> apply_experiment(slate& s, const experiment_mappings& mappings,
                                                    const std::string& day);

/// Records a served request in the session's mapping; true when it changed
/// (and so must be mirrored again). The record lives 24 h after its last change
/// and holds at most `max_codes` codes: past that, only codes it already holds
/// are renewed.
bool remember_codes(session_mapping& m, const ad_request& req,
                    const std::map<std::string, std::string>& swapped, int64_t now_seconds,
                    int64_t ttl_seconds, size_t max_codes = 100);

/// The Redis value of experiment:mapping:{session_id}: {"EXPERIMENT_CODE": "ORIGINAL", ...}.
std::string session_mapping_value(const session_mapping& m);

/// Shard of a session id among `shards` (stable across processes and nodes).
size_t session_shard(const std::string& session_id, size_t shards);

}  // namespace adserver
