#pragma once
// campaign: one per campaign; owns its configuration, status and bids.
// Admin changes are serialized (each waits for its commit before the next
// message is looked at), then published as CAMPAIGN_UPDATED.
#include "actors/expiring_set.hpp"
#include "actors/io_handles.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace adserver {

struct campaign_settings {
  /// Impression tokens remembered per campaign (a replayed token within its
  /// lifetime is not counted again); the oldest are forgotten beyond it.
  size_t impression_memory = 250000;
  /// Unused this long, the campaign actor is passivated (0: never).
  int64_t idle_seconds = 600;
  /// The budget read's pacing target: the traffic curves (null: uniform)
  /// and pacing.allowance_percent.
  traffic_actor traffic;
  int64_t pacing_allowance_percent = 2;
};

struct campaign_state {
  campaign_record campaign;
  io_handles io;
  directory_actor directory;
  /// Hears of every change before the client does (its auctions then serve
  /// the change to the client's next request: read your writes).
  auction_router_actor auctions;
  int64_t changes = 0;
  int64_t impressions = 0;  // counted since start (the table holds the totals)
  int64_t clicks = 0;
  int64_t unflushed_impressions = 0;
  int64_t unflushed_clicks = 0;
  bool flush_scheduled = false;
  expiring_set impressions_seen{0};
  campaign_settings settings;
  int64_t last_used = 0;  // epoch seconds of the last message
  bool retiring = false;
  int64_t impressions_replayed = 0;
  census_entry census{actor_kind::campaign};
  static inline const char* name = "campaign";
};

campaign_actor::behavior_type campaign(campaign_actor::stateful_pointer<campaign_state> self,
                                       campaign_record record, io_handles io,
                                       directory_actor directory, auction_router_actor auctions,
                                       campaign_settings settings);

/// campaign-events body (CAMPAIGN_CREATED / CAMPAIGN_UPDATED / CAMPAIGN_DELETED).
kafka_event campaign_event(const std::string& event_type, const campaign_record& c,
                           const principal& who);

}  // namespace adserver
