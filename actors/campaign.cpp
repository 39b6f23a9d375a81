#include "actors/campaign.hpp"

#include "actors/campaign_logic.hpp"
#include "actors/deadline.hpp"
#include "actors/events.hpp"
#include "actors/ledger_logic.hpp"
#include "actors/pacing.hpp"
#include "actors/validation.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "storage/statements.hpp"

#include <caf/typed_response_promise.hpp>

#include <algorithm>

namespace adserver {

namespace {

std::string json_strings(const std::vector<std::string>& xs) {
  std::string out = "[";
  for (size_t i = 0; i < xs.size(); ++i)
    out += (i ? "," : "") + json_quote(xs[i]);
  return out + "]";
}

using self_ptr = campaign_actor::stateful_pointer<campaign_state>;

/// Writes a unit, then applies `on_commit` to the returned row; the campaign
/// looks at no other message until the write has answered.
template <class F>
void write_then(self_ptr self, std::vector<pg_statement> unit,
                caf::typed_response_promise<campaign_record> promise,
                const std::string& event_type, request_meta meta, F on_commit) {
  auto who = meta.who;
  self->request(self->state.io.writer, caf::infinite, write_atom::value, std::move(unit),
                meta.due, idempotency_ticket{})
    .await(
      [=](const pg_results& results) mutable {
        auto& st = self->state;
        on_commit(st, results);
        ++st.changes;
        self->send(st.io.kafka, publish_atom::value, campaign_event(event_type, st.campaign, who));
        self->send(st.directory, campaign_atom::value, st.campaign);
        // Answered once the auctions have the change in their mailboxes: a
        // request the client sends next goes straight to them (not through
        // the router) and must see it. Committed either way.
        auto changed = st.campaign;
        auto answer = [=]() mutable { promise.deliver(changed); };
        auto wait = ack_wait(meta.due, change_ack_timeout);
        if (wait.count() <= 0) {
          self->send(st.auctions, campaign_atom::value, changed);
          answer();
          return;
        }
        // Unlike tell_then_answer (deadline.hpp), awaited: nothing else, a
        // passivation included, runs before the committed change is answered.
        self->request(st.auctions, wait, campaign_atom::value, changed)
          .await(answer, [=](caf::error&) mutable { answer(); });
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
}

/// Takes the stored row a status or delete write returned; its bids stay (the
/// row does not carry them).
void take_row(campaign_state& st, const pg_results& res) {
  if (res.empty() || res[0].empty())
    return;
  auto bids = std::move(st.campaign.bids);
  st.campaign = storage::parse_campaign(res[0][0]);
  st.campaign.bids = std::move(bids);
}

caf::error check_active(const campaign_record& c);

/// What every admin change of a campaign starts with: dropped past its
/// deadline, counted as use, refused once the campaign is deleted.
caf::error admit_change(self_ptr self, const request_meta& meta) {
  if (passed(meta.due))
    return deadline_passed();
  self->state.last_used = epoch_seconds();
  return check_active(self->state.campaign);
}

/// Writes one statement that returns the campaign's row and takes it.
caf::result<campaign_record> write_row(self_ptr self, pg_statement stmt,
                                       const request_meta& meta) {
  auto promise = self->make_response_promise<campaign_record>();
  write_then(self, {std::move(stmt)}, promise, "CAMPAIGN_UPDATED", meta, take_row);
  return promise;
}

caf::error check_active(const campaign_record& c) {
  if (!c.audit.activated)
    return make_error(ec::reference_inactive,
                      "campaign " + std::to_string(c.id) + " is deleted",
                      "{\"campaign_id\":" + std::to_string(c.id) + "}");
  return caf::none;
}

std::chrono::seconds idle_check_interval(const campaign_settings& s) {
  return std::chrono::seconds(std::clamp<int64_t>(s.idle_seconds / 2, 1, 60));
}

/// Adds to the quality statistics; written at most once a second.
void count(self_ptr self, int64_t impressions, int64_t clicks) {
  auto& st = self->state;
  st.impressions += impressions;
  st.clicks += clicks;
  st.unflushed_impressions += impressions;
  st.unflushed_clicks += clicks;
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->delayed_send(self, std::chrono::seconds(1), flush_atom::value);
  }
}

/// The budget view with the pacing target of this moment.
budget_view paced_view(const campaign_spend& spend, const campaign_record& c,
                       const traffic_curves& curves, int64_t allowance_percent) {
  auto view = make_budget_view(spend);
  view.delivery = c.delivery;
  view.pacing_target_today = campaign_pacing_target(
    spend.daily_budget, c.delivery, c.bids, curves, allowance_percent,
    business_seconds_into_day(std::chrono::system_clock::now()));
  return view;
}

}  // namespace

kafka_event campaign_event(const std::string& event_type, const campaign_record& c,
                           const principal& who) {
  std::string bids = "{";
  bool first = true;
  for (auto& [k, v] : c.bids) {
    bids += (first ? "" : ",") + json_quote(k) + ":" + std::to_string(v);
    first = false;
  }
  bids += "}";
  std::string payload =
    "{\"event_type\":" + json_quote(event_type)
    + ",\"timestamp\":" + json_quote(iso8601_now())
    + ",\"campaign_id\":" + std::to_string(c.id)
    + ",\"advertiser_id\":" + std::to_string(c.advertiser_id)
    + ",\"product_id\":" + json_quote(c.product_id)
    + ",\"status\":" + json_quote(c.status)
    + ",\"activated\":" + (c.audit.activated ? "1" : "0")
    + ",\"start_date\":" + json_quote(c.start_date)
    + ",\"end_date\":" + json_quote(c.end_date)
    + ",\"daily_budget\":" + std::to_string(c.daily_budget)
    + ",\"total_budget\":" + std::to_string(c.total_budget)
    + ",\"bids\":" + bids
    + ",\"targeting\":{\"categories\":" + json_strings(c.categories)
    + ",\"keywords\":" + json_strings(c.keywords) + "}"
    + ",\"updated_user_id\":" + json_quote(who) + "}";
  return {"campaign-events", std::to_string(c.id), payload};
}

campaign_actor::behavior_type campaign(campaign_actor::stateful_pointer<campaign_state> self,
                                       campaign_record record, io_handles io,
                                       directory_actor directory, auction_router_actor auctions,
                                       campaign_settings settings) {
  self->state.campaign = std::move(record);
  self->state.impressions_seen = expiring_set{settings.impression_memory};
  self->state.settings = settings;
  self->state.last_used = epoch_seconds();
  if (settings.idle_seconds > 0)
    self->delayed_send(self, idle_check_interval(settings), poll_atom::value);
  self->state.io = std::move(io);
  self->state.directory = std::move(directory);
  self->state.auctions = std::move(auctions);
  return {
    [=](get_atom) -> caf::result<campaign_record> {
      self->state.last_used = epoch_seconds();
      return self->state.campaign;
    },
    [=](transition_atom, const std::string& requested,
        request_meta& meta) -> caf::result<campaign_record> {
      if (auto err = admit_change(self, meta))
        return err;
      auto& c = self->state.campaign;
      auto next = next_status(c.status, requested);
      if (!next)
        return next.error();
      if (*next == c.status)
        return c;
      return write_row(self, storage::campaign_set_status(c.id, *next, meta.who), meta);
    },
    [=](bids_atom, placement_bids& bids, request_meta& meta) -> caf::result<campaign_record> {
      if (auto err = admit_change(self, meta))
        return err;
      auto& c = self->state.campaign;
      auto who = meta.who;
      if (bids.empty())
        return validation_error("bids", "at least one placement bid is required");
      if (auto err = validate_bids(bids))
        return err;
      auto promise = self->make_response_promise<campaign_record>();
      write_then(self, storage::campaign_replace_bids(c.id, bids, who), promise,
                 "CAMPAIGN_UPDATED", meta, [bids, who](campaign_state& st, const pg_results&) {
                   st.campaign.bids = bids;
                   st.campaign.audit.updated_user_id = who;
                   st.campaign.audit.updated_at = iso8601_now();
                 });
      return promise;
    },
    [=](delivery_atom, const std::string& delivery,
        request_meta& meta) -> caf::result<campaign_record> {
      if (auto err = admit_change(self, meta))
        return err;
      auto& c = self->state.campaign;
      if (auto err = check_delivery(delivery))
        return err;
      if (delivery == c.delivery)
        return c;
      return write_row(self, storage::campaign_set_delivery(c.id, delivery, meta.who), meta);
    },
    [=](delete_atom, request_meta& meta) -> caf::result<campaign_record> {
      if (passed(meta.due))
        return deadline_passed();
      self->state.last_used = epoch_seconds();
      auto& c = self->state.campaign;
      if (!c.audit.activated)
        return c;
      auto promise = self->make_response_promise<campaign_record>();
      write_then(self, {storage::campaign_deactivate(c.id, meta.who)}, promise,
                 "CAMPAIGN_DELETED", meta, take_row);
      return promise;
    },
    [=](budget_atom) -> caf::result<budget_view> {
      self->state.last_used = epoch_seconds();
      auto promise = self->make_response_promise<budget_view>();
      auto c = self->state.campaign;
      auto pct = self->state.settings.pacing_allowance_percent;
      auto traffic = self->state.settings.traffic;
      // The spend (from the ledger), then the curves (uniform without them).
      auto with_curves = [=](campaign_spend s) mutable {
        if (!traffic) {
          promise.deliver(paced_view(s, c, {}, pct));
          return;
        }
        self->request(traffic, std::chrono::seconds(1), traffic_atom::value)
          .then([=](const traffic_curves& curves) mutable {
                  promise.deliver(paced_view(s, c, curves, pct));
                },
                [=](caf::error&) mutable { promise.deliver(paced_view(s, c, {}, pct)); });
      };
      self->request(self->state.directory, std::chrono::seconds(30), ledger_atom::value,
                    c.advertiser_id)
        .then(
          [=](ledger_actor& l) mutable {
            self->request(l, std::chrono::seconds(30), budget_atom::value, c.id)
              .then([=](const campaign_spend& s) mutable { with_curves(s); },
                    [=](caf::error&) mutable {
                      // Not in the ledger (e.g. deleted): budgets with no spend today.
                      campaign_spend s;
                      s.campaign_id = c.id;
                      s.daily_budget = c.daily_budget;
                      s.total_budget = c.total_budget;
                      with_curves(s);
                    });
          },
          [=](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](track_atom, int64_t impressions, int64_t clicks) {
      self->state.last_used = epoch_seconds();
      count(self, impressions, clicks);
    },
    [=](impression_atom, const token_claims& ad, const std::string& session_id) {
      auto& st = self->state;
      auto now = epoch_seconds();
      st.last_used = now;
      if (!st.impressions_seen.insert(ad.request_id + ' ' + ad.ad_id, ad.expires_at, now)) {
        ++st.impressions_replayed;
        return;
      }
      count(self, 1, 0);
      self->send(st.io.kafka, publish_atom::value, impression_event(ad, session_id, iso8601_now()));
      if (st.io.dashboards)
        self->send(st.io.dashboards, track_atom::value,
                   impression_dashboard_event(ad, epoch_millis()));
    },
    [=](flush_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      st.flush_scheduled = false;
      if (st.unflushed_impressions == 0 && st.unflushed_clicks == 0) {
        if (st.retiring)
          self->quit();
        return;
      }
      auto imps = st.unflushed_impressions;
      auto clks = st.unflushed_clicks;
      st.unflushed_impressions = 0;
      st.unflushed_clicks = 0;
      self->request(st.io.writer, caf::infinite, write_atom::value,
                    std::vector<pg_statement>{storage::campaign_stats_add(st.campaign.id, imps, clks)})
        .then(
          [=](const pg_results&) {
            auto& st = self->state;
            if (st.retiring && st.unflushed_impressions == 0 && st.unflushed_clicks == 0)
              self->quit();
          },
          [=](caf::error&) {
                // Not written: count it again with the next flush.
                auto& st = self->state;
                st.unflushed_impressions += imps;
                st.unflushed_clicks += clks;
                if (!st.flush_scheduled) {
                  st.flush_scheduled = true;
                  self->delayed_send(self, std::chrono::seconds(1), flush_atom::value);
                }
              });
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      if (st.retiring)
        return;
      if (!st.flush_scheduled && epoch_seconds() - st.last_used >= st.settings.idle_seconds)
        self->send(st.directory, idle_atom::value, st.campaign.id, campaign_actor{self});
      self->delayed_send(self, idle_check_interval(st.settings), poll_atom::value);
    },
    [=](retire_atom) {
      // Statistics not yet written go first (the flush quits when done).
      self->state.retiring = true;
      self->send(self, flush_atom::value);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& c = self->state.campaign;
      status_record r;
      r.kind = "campaign";
      r.key = std::to_string(c.id);
      r.figures = {{"advertiser_id", c.advertiser_id},
                   {"daily_budget", c.daily_budget},
                   {"total_budget", c.total_budget},
                   {"changes", self->state.changes},
                   {"impressions", self->state.impressions},
                   {"clicks", self->state.clicks},
                   {"impressions_replayed", self->state.impressions_replayed},
                   {"impression_tokens_held",
                    static_cast<int64_t>(self->state.impressions_seen.size())}};
      r.info = {{"status", c.status}, {"activated", c.audit.activated ? "1" : "0"}};
      return r;
    },
  };
}

}  // namespace adserver
