#pragma once
// advertiser-ledger: one per advertiser, the single writer of its balance and
// of its campaigns' spend. Changes are applied in memory in arrival order and
// written to PostgreSQL as compare-and-set on ad_balances.version; a change is
// acknowledged only after its commit. Writes are pipelined (the writer groups
// them into shared commits), so one advertiser is not limited to one commit
// round trip per change.
#include "actors/io_handles.hpp"
#include "actors/timed_marks.hpp"
#include "protocol/telemetry.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace adserver {

struct queued_click;  // actors/ledger.cpp

struct ledger_init {
  advertiser_record advertiser;
  int64_t version = 0;
  /// The epoch of the ledger lease this node took for it (ad_balances.
  /// lease_epoch): every money write requires it, so after another node took
  /// the lease this ledger can no longer charge.
  int64_t lease_epoch = 0;
  std::vector<campaign_spend> campaigns;
  /// Charged clicks of the last hour: ad_device_key(ad_id, device_id) ->
  /// epoch seconds.
  timed_marks recent_clicks;
  /// Tokens charged within a token lifetime: request_id + ' ' + ad_id ->
  /// epoch seconds of the charge.
  timed_marks charged_tokens;
};

struct ledger_settings {
  /// Requests that may wait while the ledger re-reads its state after a
  /// failed write; beyond it (or while the database is unreachable) they
  /// are refused at once with 503.
  size_t max_parked = 64;
  /// Tokens live this long (ads.token_ttl_seconds): a charged token is
  /// remembered at least as long.
  int64_t token_ttl_seconds = 3600;
  /// Unused this long, the ledger is passivated (0: never).
  int64_t idle_seconds = 600;
  /// This node's id (node.name) and process (its cluster_members
  /// incarnation): the holder named in ledger leases.
  std::string node_id = "local";
  int64_t incarnation = 0;
  /// Single node (cluster.actor_port 0): take a lease whoever holds it (a
  /// previous process under another name, a blue/green twin); the epoch
  /// still fences the one that lost it.
  bool take_over = false;
  /// How long activation waits for a lease another live node holds (it
  /// frees it when it passivates the ledger, or its membership expires).
  int64_t lease_wait_ms = 5000;
};

struct ledger_state {
  advertiser_record advertiser;  // balance field = balance after all accepted changes
  int64_t version = 0;           // ad_balances.version after all accepted changes
  int64_t lease_epoch = 0;       // the lease every money write requires
  bool lease_lost = false;       // another node took the lease: stop, never charge
  std::map<int64_t, campaign_spend> campaigns;
  timed_marks recent_clicks;  // ad_device_key -> second charged, the last hour
  // Tokens charged within a token lifetime (fast path; PostgreSQL's unique
  // index on charged ad_clicks decides, on every node).
  timed_marks charged_tokens;
  bool forgetting = false;  // a message to forget more old marks is on its way
  io_handles io;
  directory_actor directory;  // told when idle, and of charged clicks
  auction_router_actor auctions;  // told when money changes, so auctions re-rank
  int64_t inflight = 0;
  /// Charged clicks applied in memory while a click write of this ledger is
  /// in flight: written together when it answers, as one statement (one
  /// balance and one spend update per campaign for all of them). Counted in
  /// `inflight`.
  std::vector<std::shared_ptr<queued_click>> click_queue;
  int64_t click_writes = 0;   // click statements in flight
  int64_t click_batches = 0;  // click statements written
  // After a failed write the in-memory state may be ahead of the database:
  // stop, let in-flight writes settle, re-read, then serve what waited
  // (bounded; what waited past its deadline is dropped unapplied).
  bool recovering = false;
  // The last re-read failed: refuse at once until one succeeds (back-off).
  bool database_down = false;
  std::chrono::milliseconds reload_backoff{100};
  struct parked {
    deadline due;
    std::function<void()> resume;
    std::function<void(const caf::error&)> refuse;
  };
  std::deque<parked> waiting;
  ledger_settings settings;
  int64_t last_used = 0;  // epoch seconds of the last request
  bool retiring = false;  // forgotten by the directory: stop once settled
  int64_t expired = 0;  // dropped at their deadline, unapplied
  int64_t refused = 0;  // refused at once while recovering or full
  int64_t clicks_charged = 0;
  int64_t clicks_unbilled = 0;
  /// Tokens another node charged first whose charge time was read back.
  int64_t others_charges_timed = 0;
  int64_t changes_committed = 0;
  int64_t changes_failed = 0;
  int64_t reloads = 0;
  census_entry census{actor_kind::ledger};
  uint32_t census_tick = 0;  // every 64th click samples the mailbox
  gauge_share spent_share{telemetry().spent_today_held};
  gauge_share budget_share{telemetry().daily_budget_held};
  static inline const char* name = "advertiser-ledger";
};

ledger_actor::behavior_type ledger(ledger_actor::stateful_pointer<ledger_state> self,
                                   ledger_init init, io_handles io,
                                   directory_actor directory, auction_router_actor auctions,
                                   ledger_settings settings);

}  // namespace adserver
