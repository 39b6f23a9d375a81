#pragma once
// session-experiment: one shard of the sessions (session_shard() picks it).
// Auctions delegate a slate here when the request names exp_key/exp_var; the
// shard serves the mapped products under their experiment codes, remembers
// per session which experiment code stands for which original (24 h,
// mirrored to Redis experiment:mapping:{session_id}) and signs the tokens.
// In a cluster the record lives on the node owning the session: a shard
// serving another node's session signs here and sends the codes there.
// All active mappings are read from PostgreSQL on first use and kept in
// memory by exp_key/exp_var: the warm path has no database or Redis round
// trip, and unknown exp_key/exp_var pairs cost neither a query nor memory.
#include "actors/cluster_view.hpp"
#include "actors/io_handles.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

namespace adserver {

struct session_experiment_settings {
  std::string hmac_secret;
  int64_t session_ttl_seconds = 86400;
  /// Mappings are re-read in the background at most this often (changes made
  /// through this node's admin API apply at once).
  int64_t refresh_seconds = 60;
  /// Sessions remembered by one shard; beyond it the ones closest to
  /// expiry are forgotten first.
  size_t max_sessions = 250000;
  /// In a cluster, the codes served to a session another node owns are
  /// remembered there (null: every session is this node's).
  std::shared_ptr<const cluster_view> cluster;
};

struct session_experiment_state {
  io_handles io;
  session_experiment_settings settings;
  /// Active mappings by (exp_key, exp_var).
  std::map<std::pair<std::string, std::string>, experiment_mappings> variants;
  int64_t loaded_at = 0;            // epoch seconds; 0: never loaded
  int64_t loaded_generation = -1;   // `generation` the mappings were read in
  bool loading = false;
  std::vector<std::pair<slate, serve_reply>> waiting;
  std::unordered_map<std::string, session_mapping> sessions;
  int64_t generation = 0;  // bumped when mappings change
  int64_t served = 0;
  int64_t applied = 0;  // ads served under an experiment code
  int64_t loads = 0;
  int64_t evicted = 0;  // sessions forgotten early to stay within max_sessions
  int64_t sent_to_owner = 0;    // served here, remembered by the session's owner
  int64_t kept_for_owner = 0;   // the owner was unreachable: remembered here
  int64_t taken_for_peers = 0;  // served by another node, remembered here
  census_entry census{actor_kind::session_shard};
  gauge_share sessions_share{telemetry().sessions_held};
  static inline const char* name = "session-experiment";
};

session_experiment_actor::behavior_type
session_experiments(session_experiment_actor::stateful_pointer<session_experiment_state> self,
                    io_handles io, session_experiment_settings settings);

}  // namespace adserver
