#pragma once
// campaign: one per campaign; owns its configuration, status and bids.
// Admin changes are serialized (each waits for its commit before the next
// message is looked at), then published as CAMPAIGN_UPDATED.
#include "actors/io_handles.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace adserver {

struct campaign_state {
  campaign_record campaign;
  io_handles io;
  directory_actor directory;
  int64_t changes = 0;
  int64_t impressions = 0;  // counted since start (the table holds the totals)
  int64_t clicks = 0;
  int64_t unflushed_impressions = 0;
  int64_t unflushed_clicks = 0;
  bool flush_scheduled = false;
  static inline const char* name = "campaign";
};

campaign_actor::behavior_type campaign(campaign_actor::stateful_pointer<campaign_state> self,
                                       campaign_record record, io_handles io,
                                       directory_actor directory);

/// campaign-events body (CAMPAIGN_CREATED / CAMPAIGN_UPDATED / CAMPAIGN_DELETED).
kafka_event campaign_event(const std::string& event_type, const campaign_record& c,
                           const principal& who);

}  // namespace adserver
