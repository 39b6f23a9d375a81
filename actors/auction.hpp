#pragma once
// auction: one per placement:category (SEARCH: per normalized term). The
// first request loads the candidates from PostgreSQL; after that requests are
// served from memory. Money changes arrive as messages and re-rank in memory;
// a change of a campaign it holds or may hold makes it load again.
#include "actors/io_handles.hpp"
#include "actors/ranking.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <map>

namespace adserver {

struct auction_settings {
  ranking_params ranking;
  std::string hmac_secret;
  int64_t token_ttl_seconds = 3600;
  /// Statistics (pCTR) are re-read at most this often, in the background.
  int64_t refresh_seconds = 30;
  /// An auction unused this long retires (memory stays bounded by the terms
  /// in use, not by every term ever searched).
  int64_t idle_seconds = 600;
  /// Requests naming exp_key/exp_var are finished by their session's shard.
  std::vector<session_experiment_actor> experiment_shards;
  /// The traffic curves STANDARD campaigns are paced by (null: uniform).
  traffic_actor traffic;
  /// pacing.allowance_percent: a STANDARD campaign may run this share of its
  /// daily budget ahead of its target.
  int64_t pacing_allowance_percent = 2;
};

struct auction_state {
  std::string key;
  auction_router_actor router;
  int64_t last_used = 0;  // epoch seconds of the last request
  bool retiring = false;  // the router forgot it: stop once nothing waits
  std::string placement;
  std::string category;
  std::string search_term;
  auction_settings settings;
  io_handles io;
  std::vector<candidate> candidates;  // targeted, eligible or not: money updates re-rank them
  std::vector<ranked_ad> ranked;
  std::string loaded_day;  // empty: not loaded
  int64_t loaded_at = 0;    // epoch seconds of the last load
  bool loading = false;
  int64_t generation = 0;  // bumped by campaign changes; a load started before is stale
  std::vector<std::pair<ad_request, serve_reply>> waiting;
  /// Inspections waiting for a load.
  std::vector<caf::typed_response_promise<auction_view>> inspecting;
  int64_t served = 0;
  int64_t loads = 0;
  int64_t reranks = 0;  // in memory, on money changes
  /// Money changes that arrived while loading: applied on top of what the
  /// load read (each is the ledger's newest state, so the last one wins).
  std::map<int64_t, advertiser_money> money_during_load;
  /// The traffic curves of the last load (pacing).
  traffic_curves curves;
  /// STANDARD candidates held back by pacing at the last rank, and when.
  int64_t paced_out = 0;
  int64_t paced_at = 0;
  census_entry census{actor_kind::auction};
  uint32_t census_tick = 0;  // every 64th request samples the mailbox
  static inline const char* name = "auction";
};

/// `key` is "PLACEMENT:" followed by the category or normalized search term.
auction_actor::behavior_type auction(auction_actor::stateful_pointer<auction_state> self,
                                     std::string key, auction_settings settings,
                                     io_handles io, auction_router_actor router);

}  // namespace adserver
