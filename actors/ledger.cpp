#include "actors/ledger.hpp"

#include "actors/deadline.hpp"
#include "actors/events.hpp"
#include "actors/ledger_logic.hpp"
#include "config/log.hpp"
#include "protocol/business_time.hpp"
#include "protocol/errors.hpp"
#include "protocol/redis_keys.hpp"
#include "storage/statements.hpp"

#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

#include <algorithm>
#include <functional>

namespace adserver {

namespace {

using self_ptr = ledger_actor::stateful_pointer<ledger_state>;

void share_budgets(ledger_state& st);

void apply_init(ledger_state& st, ledger_init init) {
  st.advertiser = std::move(init.advertiser);
  st.version = init.version;
  st.lease_epoch = init.lease_epoch;
  st.campaigns.clear();
  for (auto& c : init.campaigns)
    st.campaigns[c.campaign_id] = c;
  st.recent_clicks = std::move(init.recent_clicks);
  st.charged_tokens = std::move(init.charged_tokens);
  share_budgets(st);
}

std::string token_key(const click_request& click) {
  return click.ad.request_id + ' ' + click.ad.ad_id;
}


constexpr int64_t duplicate_window_seconds = 3600;
/// Old duplicate marks forgotten per click, at most: ahead of the at most two
/// marks a click adds, and small enough that no click waits for a purge.
constexpr size_t marks_forgotten_per_click = 64;
/// The same per message of the ledger to itself, while more are due (after a
/// busy hour the clicks may have slowed down; the marks must still go).
constexpr size_t marks_forgotten_per_message = 4096;

void mirror_balance(self_ptr self, int64_t balance) {
  self->send(self->state.io.redis, set_atom::value, balance_key(self->state.advertiser.id),
             std::to_string(balance), int64_t{0});
}

void reload(self_ptr self);
void write_clicks(self_ptr self);

/// The advertiser's campaigns with today's spend (a new day starts at zero).
std::vector<campaign_spend> campaigns_today(ledger_state& st) {
  std::vector<campaign_spend> out;
  auto today = business_today();
  for (auto& [id, spend] : st.campaigns) {
    spend = roll_to_day(spend, today);
    out.push_back(spend);
  }
  return out;
}

/// This ledger's share of the node's budget burn figures (today's spend
/// and daily budgets of its serving campaigns).
void share_budgets(ledger_state& st) {
  int64_t spent = 0;
  int64_t budget = 0;
  auto today = business_today();
  for (auto& [id, spend] : st.campaigns) {
    spend = roll_to_day(spend, today);
    if (!spend.serving)
      continue;
    spent += spend.spent_today;
    budget += spend.daily_budget;
  }
  st.spent_share.set(spent);
  st.budget_share.set(budget);
}

advertiser_money money_now(ledger_state& st) {
  advertiser_money m;
  m.advertiser_id = st.advertiser.id;
  m.balance = st.advertiser.balance;
  m.active = st.advertiser.audit.activated;
  m.campaigns = campaigns_today(st);
  return m;
}

/// Tells the auctions (through the auction router) what this advertiser can
/// pay now.
void publish_money(self_ptr self) {
  self->send(self->state.auctions, money_atom::value, money_now(self->state));
}

void settle(self_ptr self);

/// Ends the ledger, freeing its lease for the next owner (a no-op when the
/// lease moved on: the release names this ledger's epoch).
void stop_ledger(self_ptr self) {
  auto& st = self->state;
  caf::anon_send(st.io.writer, write_atom::value,
                 std::vector<pg_statement>{
                   storage::ledger_lease_release(st.advertiser.id, st.lease_epoch)},
                 deadline{}, idempotency_ticket{});
  self->quit();
}

/// The same, then `answer` once the auctions have it in their mailboxes (or
/// after change_ack_timeout, or just before `due`, whichever comes first: a
/// committed change is never answered after its client was told 503): an
/// admin change is answered only then, since the client's next ad request
/// goes straight to the auctions. Counted in flight, so a retiring ledger
/// does not stop before it has answered.
void publish_money_then(self_ptr self, std::function<void()> answer, deadline due) {
  ++self->state.inflight;
  tell_then_answer(
    self, self->state.auctions, due, change_ack_timeout,
    [=] {
      answer();
      settle(self);
    },
    money_atom::value, money_now(self->state));
}

void settle(self_ptr self) {
  auto& st = self->state;
  --st.inflight;
  if (st.recovering && st.inflight == 0)
    reload(self);
  else if (st.retiring && st.inflight == 0)
    stop_ledger(self);
}

std::chrono::seconds idle_check_interval(const ledger_settings& s) {
  return std::chrono::seconds(std::clamp<int64_t>(s.idle_seconds / 2, 1, 60));
}

/// Refuses every parked request with `err` (retryable).
void refuse_waiting(ledger_state& st, const caf::error& err) {
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& w : waiting) {
    ++st.refused;
    w.refuse(err);
  }
}

/// The re-read failed: refuse what waits (the database is unreachable, so
/// nothing it asked for can be done soon) and try again after the back-off.
void reload_failed(self_ptr self, const std::string& why) {
  auto& st = self->state;
  st.database_down = true;
  refuse_waiting(st, make_error(ec::unavailable,
                                "advertiser ledger cannot reach the database (" + why
                                  + "); retry",
                                "{\"retry_after_seconds\":1}"));
  self->delayed_send(self, st.reload_backoff, reload_atom::value);
  st.reload_backoff = std::min(st.reload_backoff * 2, std::chrono::milliseconds(5000));
}

/// Holds a request until the ledger has re-read its state, or refuses it at
/// once when the database is unreachable or too many already wait.
void park(self_ptr self, deadline due, std::function<void()> resume,
          std::function<void(const caf::error&)> refuse, bool admitted = false) {
  auto& st = self->state;
  // `admitted` work was taken before the failure (clicks queued behind a
  // failed write): the bound is for new arrivals.
  if (st.database_down || (!admitted && st.waiting.size() >= st.settings.max_parked)) {
    ++st.refused;
    refuse(make_error(ec::unavailable,
                      st.database_down
                        ? "advertiser ledger cannot reach the database; retry"
                        : "too many requests wait for this advertiser's ledger; retry",
                      "{\"retry_after_seconds\":1}"));
    return;
  }
  st.waiting.push_back({due, std::move(resume), std::move(refuse)});
}

/// Another node took the lease (this one was presumed dead, or the key
/// moved): nothing more is charged here. What waits is refused, retryable,
/// and the directory forgets this ledger; the next request activates it
/// again, which takes the lease only once its holder freed it or died.
void lease_lost(self_ptr self, const std::string& holder, int64_t epoch) {
  auto& st = self->state;
  log_line(log_level::warn, "ledger_lease_lost",
           {{"advertiser_id", std::to_string(st.advertiser.id), true},
            {"epoch", std::to_string(st.lease_epoch), true},
            {"holder", holder},
            {"holder_epoch", std::to_string(epoch), true}});
  st.lease_lost = true;
  st.recovering = false;
  st.retiring = true;
  refuse_waiting(st, make_error(ec::unavailable,
                                "advertiser " + std::to_string(st.advertiser.id)
                                  + "'s ledger moved to another node; retry",
                                "{\"retry_after_seconds\":1}"));
  self->send(st.directory, idle_atom::value, st.advertiser.id, ledger_actor{self});
  if (st.inflight == 0)
    self->quit();
}

void load_advertiser(self_ptr self);

/// Re-reads the lease, then the advertiser, its balance and version from
/// PostgreSQL. A write that missed its compare-and-set may have met another
/// node's epoch: the lease is checked first.
void reload(self_ptr self) {
  auto& st = self->state;
  self->request(st.io.reader, caf::infinite, query_atom::value,
                storage::ledger_lease_read(st.advertiser.id))
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        if (rows.empty()) {
          reload_failed(self, "advertiser balance row missing");
          return;
        }
        auto holder = rows.front().at(0);
        auto epoch = storage::to_int(rows.front().at(1));
        if (epoch != st.lease_epoch) {
          lease_lost(self, holder, epoch);
          return;
        }
        load_advertiser(self);
      },
      [=](caf::error& err) { reload_failed(self, view(err).message); });
}

void load_advertiser(self_ptr self) {
  auto id = self->state.advertiser.id;
  self->request(self->state.io.reader, caf::infinite, query_atom::value,
                storage::advertiser_load(id))
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        if (rows.empty()) {
          reload_failed(self, "advertiser row missing");
          return;
        }
        auto advertiser = storage::parse_advertiser(rows.front());
        auto version = storage::parse_advertiser_version(rows.front());
        auto today = business_today();
        self->request(st.io.reader, caf::infinite, query_atom::value,
                      storage::ledger_campaigns(id, today))
          .then(
            [=](const pg_rows& campaign_rows) {
              auto& st = self->state;
              st.advertiser = advertiser;
              st.version = version;
              st.campaigns.clear();
              for (auto& r : campaign_rows) {
                auto c = storage::parse_campaign_spend(r, today);
                st.campaigns[c.campaign_id] = c;
              }
              st.recovering = false;
              st.database_down = false;
              st.reload_backoff = std::chrono::milliseconds(100);
              ++st.reloads;
              mirror_balance(self, st.advertiser.balance);
              publish_money(self);
              auto waiting = std::move(st.waiting);
              st.waiting.clear();
              // Each resumes through its handler, which drops it if its
              // deadline passed meanwhile.
              for (auto& w : waiting)
                w.resume();
              if (st.retiring && st.inflight == 0)
                stop_ledger(self);
            },
            [=](caf::error& err) { reload_failed(self, view(err).message); });
      },
      [=](caf::error& err) { reload_failed(self, view(err).message); });
}

caf::error check_active(const ledger_state& st) {
  if (!st.advertiser.audit.activated)
    return make_error(ec::reference_inactive,
                      "advertiser " + std::to_string(st.advertiser.id) + " is deleted",
                      "{\"advertiser_id\":" + std::to_string(st.advertiser.id) + "}");
  return caf::none;
}

void change_balance(self_ptr self, balance_change change, request_meta meta,
                    caf::typed_response_promise<balance_change_result> promise) {
  auto& st = self->state;
  if (passed(meta.due)) {
    ++st.expired;
    promise.deliver(deadline_passed());
    return;
  }
  // Clicks applied before this change are written before it (pg-writer keeps
  // one sender's order; each write expects the version the previous left).
  while (!st.click_queue.empty() && !st.recovering)
    write_clicks(self);
  if (st.recovering) {
    park(self, meta.due, [=] { change_balance(self, change, meta, promise); },
         [=](const caf::error& err) mutable { promise.deliver(err); });
    return;
  }
  if (auto err = check_active(st)) {
    promise.deliver(err);
    return;
  }
  auto plan = plan_balance_change(st.advertiser.balance, change);
  if (!plan) {
    promise.deliver(plan.error());
    return;
  }
  auto expected_version = st.version;
  st.advertiser.balance = plan->balance_after;
  st.version += 1;
  ++st.inflight;
  auto stmt = storage::balance_change_write(st.advertiser.id, expected_version,
                                            plan->balance_before, plan->balance_after,
                                            plan->transaction_type, plan->amount,
                                            change.memo, meta.who, st.lease_epoch);
  self->request(st.io.writer, caf::infinite, write_atom::value, std::vector<pg_statement>{stmt},
                meta.due, meta.ticket)
    .then(
      [=](const pg_results& results) mutable {
        auto& st = self->state;
        auto r = storage::parse_balance_change(results);
        if (!r) {
          // The version moved under us: our memory is not the database's.
          ++st.changes_failed;
          st.recovering = true;
          promise.deliver(make_error(ec::unavailable, "balance changed concurrently; retry"));
        } else {
          ++st.changes_committed;
          mirror_balance(self, r->balance_after);
          auto result = *r;
          publish_money_then(self, [=]() mutable { promise.deliver(result); }, meta.due);
        }
        settle(self);
      },
      [=](caf::error& err) mutable {
        auto& st = self->state;
        ++st.changes_failed;
        st.recovering = true;
        promise.deliver(err);
        settle(self);
      });
}

void finish_click(self_ptr self, const click_request& click, const click_result& result) {
  auto& st = self->state;
  // Only charged clicks count toward pCTR: duplicates, unbilled clicks and
  // replayed tokens cannot raise (or, on a competitor, lower) it.
  if (result.charged)
    self->send(st.directory, track_atom::value, click.ad.campaign_id, int64_t{0}, int64_t{1});
  self->send(st.io.kafka, publish_atom::value, click_event(click, result, iso8601_now()));
  if (st.io.dashboards)
    self->send(st.io.dashboards, track_atom::value,
               click_dashboard_event(click, result, epoch_millis()));
}

/// The ad_clicks part of a click write (who, what, when); money fields are
/// filled by the caller that charges.
storage::click_write click_row(const ledger_state& st, const click_request& click) {
  storage::click_write w;
  w.advertiser_id = st.advertiser.id;
  w.campaign_id = click.ad.campaign_id;
  w.ad_id = click.ad.ad_id;
  w.device_id = click.ad.device_id;
  w.session_id = click.session_id;
  w.request_id = click.ad.request_id;
  w.clicked_at = iso8601_now();
  w.product_id = click.ad.product_id;
  w.original_product_id = click.ad.original_product_id;
  w.exp_key = click.ad.exp_key;
  w.exp_var = click.ad.exp_var;
  return w;
}

void record_unbilled(self_ptr self, click_request click, std::string reason,
                     caf::typed_response_promise<click_result> promise) {
  auto& st = self->state;
  ++st.clicks_unbilled;
  auto& t = telemetry();
  t.clicks_unbilled[static_cast<size_t>(unbilled_reason_of(reason))].fetch_add(
    1, std::memory_order_relaxed);
  if (reason == "BUDGET_EXHAUSTED" || reason == "INSUFFICIENT_BALANCE")
    t.deductions_refused.fetch_add(1, std::memory_order_relaxed);
  auto w = click_row(st, click);
  click_result result;
  result.charged = false;
  result.remaining_balance = st.advertiser.balance;
  result.reason = reason;
  self->request(st.io.writer, caf::infinite, write_atom::value,
                std::vector<pg_statement>{storage::click_record(w, reason)}, click.due,
                idempotency_ticket{})
    .then(
      [=](const pg_results&) mutable {
        finish_click(self, click, result);
        promise.deliver(result);
      },
      [=](caf::error& err) mutable { promise.deliver(err); });
}

}  // namespace

/// A charged click applied in memory, waiting to be written.
struct queued_click {
  click_request click;
  caf::typed_response_promise<click_result> promise;
  storage::click_write row;
  std::string key;  // ad_device_key(ad_id, device_id): the 1 h duplicate window
  std::string token;
  int64_t now = 0;
  int64_t spent_today = 0;  // the campaign's spend today with this click
  bool near_limit = false;  // the advertiser may no longer afford its ads
  bool solo = false;        // written alone (its batch hit a duplicate token)
};

namespace {

/// The longest batch one statement carries.
constexpr size_t max_click_batch = 512;

/// Another node charged this click's token first: its ad and device stay
/// marked for the hour from the pair's last charge, read back from the
/// database (any node's, any token's, its age by the database's clock), not
/// from when this node learned of it (up to a token lifetime later), so a
/// legitimate click an hour after that charge is not refused. Until the
/// answer, or if it cannot come, the mark stays at `marked_at` (longer, in
/// the direction of not charging).
void mark_from_last_charge(self_ptr self, const std::string& key,
                           const storage::click_write& row, int64_t marked_at) {
  self->request(self->state.io.reader, caf::infinite, query_atom::value,
                storage::pair_last_charge_age(row.device_id, row.ad_id,
                                              duplicate_window_seconds))
    .then(
      [=](const pg_rows& rows) {
        auto& st = self->state;
        if (rows.size() != 1 || rows[0].size() != 1 || rows[0][0].empty())
          return;
        auto* at = st.recent_clicks.marked_at(key);
        if (!at || *at != marked_at)
          return;  // marked again since: that mark stands
        auto age = storage::to_int(rows[0][0]);
        ++st.others_charges_timed;
        if (age < 0) {
          st.recent_clicks.forget_mark(key, marked_at);  // no charge within the hour
          return;
        }
        auto charged_at = epoch_seconds() - age;
        if (charged_at < marked_at)
          st.recent_clicks.mark(key, charged_at);
      },
      [](caf::error&) {});
}

void charge_click(self_ptr self, click_request click,
                  caf::typed_response_promise<click_result> promise, bool solo = false);

/// How long a charged token is remembered.
int64_t token_keep_seconds(const ledger_settings& s) {
  return std::max<int64_t>(duplicate_window_seconds, s.token_ttl_seconds);
}

/// Forgets up to `at_most` old marks of each kind; while more are due, the
/// ledger asks itself to go on, behind the messages already waiting, so
/// clicks are served in between.
void forget_old_marks(self_ptr self, size_t at_most) {
  auto& st = self->state;
  auto now = epoch_seconds();
  bool more = st.recent_clicks.expire(now, duplicate_window_seconds, at_most);
  more = st.charged_tokens.expire(now, token_keep_seconds(st.settings), at_most) || more;
  if (more && !st.forgetting) {
    st.forgetting = true;
    self->send(self, flush_atom::value);
  }
}

/// Undoes a click's duplicate marks: it was not charged, so its retry must
/// not count as a duplicate.
void unmark(ledger_state& st, const queued_click& q) {
  st.recent_clicks.forget_mark(q.key, q.now);
  st.charged_tokens.forget(q.token);
}

/// Clicks applied in memory but not yet written when a write failed: their
/// rows expect a version that will not come. They are judged again after the
/// re-read (parked; refused when too many wait), `solo` ones written alone.
void replay_after_reload(self_ptr self, std::vector<std::shared_ptr<queued_click>> clicks,
                         bool solo) {
  auto& st = self->state;
  for (auto& q : clicks) {
    unmark(st, *q);
    park(self, q->click.due,
         [=] { charge_click(self, q->click, q->promise, solo || q->solo); },
         [=](const caf::error& err) mutable { q->promise.deliver(err); }, true);
  }
  for (size_t i = 0; i < clicks.size(); ++i)
    settle(self);
}

/// The earliest deadline of `clicks` (none: no deadline).
deadline earliest_due(const std::vector<std::shared_ptr<queued_click>>& clicks) {
  deadline due;
  for (auto& q : clicks) {
    auto at = q->click.due.at_ms;  // 0: none
    if (at != 0 && (due.at_ms == 0 || at < due.at_ms))
      due = q->click.due;
  }
  return due;
}

void write_clicks(self_ptr self);

/// After a click write answered: `settled` of its clicks leave the in-flight
/// count. Clicks queued meanwhile are written next, or, when the ledger must
/// re-read, judged again after it.
void after_click_write(self_ptr self, size_t settled) {
  auto& st = self->state;
  if (st.recovering && !st.click_queue.empty()) {
    auto queued = std::move(st.click_queue);
    st.click_queue.clear();
    replay_after_reload(self, std::move(queued), false);
  } else if (!st.recovering && st.click_writes == 0 && !st.click_queue.empty()) {
    write_clicks(self);
  }
  for (size_t i = 0; i < settled; ++i)
    settle(self);
}

/// A batch committed: answer each click, mirror and publish once. When the
/// advertiser may no longer afford its ads, the clicks are answered once the
/// auctions have the new money (the client's next ad request goes straight to
/// them and must not show an ad it can no longer pay for).
void clicks_committed(self_ptr self, const std::vector<std::shared_ptr<queued_click>>& batch) {
  auto& st = self->state;
  auto& t = telemetry();
  bool near_limit = false;
  std::map<std::pair<int64_t, std::string>, int64_t> spent;  // (campaign, day) -> spend
  for (auto& q : batch) {
    ++st.clicks_charged;
    t.clicks_charged.fetch_add(1, std::memory_order_relaxed);
    t.money_charged.fetch_add(q->row.amount, std::memory_order_relaxed);
    t.deductions_ok.fetch_add(1, std::memory_order_relaxed);
    near_limit = near_limit || q->near_limit;
    spent[{q->row.campaign_id, q->row.business_date}] = q->spent_today;
    self->send(st.io.redis, set_atom::value,
               "click:" + q->click.ad.ad_id + ":" + q->click.ad.device_id, std::string{"1"},
               duplicate_window_seconds);
    finish_click(self, q->click, click_result{true, q->row.amount, q->row.balance_after, ""});
  }
  share_budgets(st);
  mirror_balance(self, batch.back()->row.balance_after);
  for (auto& [campaign_day, amount] : spent)
    self->send(st.io.redis, set_atom::value,
               daily_spent_key(campaign_day.first, campaign_day.second), std::to_string(amount),
               int64_t{86400});
  auto answer = [batch] {
    for (auto& q : batch)
      q->promise.deliver(click_result{true, q->row.amount, q->row.balance_after, ""});
  };
  // Re-rank only when this advertiser may no longer afford its ads.
  if (near_limit)
    publish_money_then(self, answer, earliest_due(batch));
  else
    answer();
}

/// A batch did not commit: nothing of it was applied.
void clicks_failed(self_ptr self, const std::vector<std::shared_ptr<queued_click>>& batch,
                   const caf::error& err) {
  auto& st = self->state;
  bool unknown = view(err).details_json.find("\"unknown\"") != std::string::npos;
  for (auto& q : batch) {
    // When the outcome is unknown it may have committed: keep the marks.
    if (!unknown)
      unmark(st, *q);
    telemetry().deductions_failed.fetch_add(1, std::memory_order_relaxed);
    q->promise.deliver(err);
  }
}

/// Queued clicks past their deadline (their clients get 503) must not be
/// written, yet the clicks after them were judged on top of them: nothing
/// of the queue is written; the expired are dropped, the rest judged again
/// after a re-read. True when that happened.
bool drop_expired(self_ptr self) {
  auto& st = self->state;
  bool any = false;
  for (auto& q : st.click_queue)
    any = any || passed(q->click.due);
  if (!any)
    return false;
  st.recovering = true;
  auto queued = std::move(st.click_queue);
  st.click_queue.clear();
  std::vector<std::shared_ptr<queued_click>> rest;
  for (auto& q : queued) {
    if (!passed(q->click.due)) {
      rest.push_back(q);
      continue;
    }
    ++st.expired;
    unmark(st, *q);
    q->promise.deliver(deadline_passed());
    settle(self);
  }
  replay_after_reload(self, std::move(rest), false);
  return true;
}

/// Writes the next batch of queued clicks as one statement (a `solo` click
/// alone), in the order they were applied. pg-writer keeps one sender's units
/// in order, so batches sent back to back commit in that order.
void write_clicks(self_ptr self) {
  auto& st = self->state;
  if (!st.click_queue.empty() && !drop_expired(self)) {
    std::vector<std::shared_ptr<queued_click>> batch;
    size_t n = 0;
    while (n < st.click_queue.size() && batch.size() < max_click_batch
           && !(st.click_queue[n]->solo && !batch.empty())) {
      batch.push_back(st.click_queue[n++]);
      if (batch.back()->solo)
        break;
    }
    st.click_queue.erase(st.click_queue.begin(), st.click_queue.begin() + n);
    std::vector<storage::click_write> rows;
    rows.reserve(batch.size());
    for (auto& q : batch)
      rows.push_back(q->row);
    // The earliest deadline: pg-writer refuses the batch once it has passed.
    auto due = earliest_due(batch);
    ++st.click_writes;
    ++st.click_batches;
    self->request(st.io.writer, caf::infinite, write_atom::value,
                  std::vector<pg_statement>{storage::click_charge(rows, st.lease_epoch)}, due,
                  idempotency_ticket{})
      .then(
        [=](const pg_results& results) {
          auto& st = self->state;
          --st.click_writes;
          if (results.empty() || results[0].size() != batch.size()) {
            // The compare-and-set missed: memory is not the database's.
            st.recovering = true;
            clicks_failed(self, batch,
                          make_error(ec::unavailable, "balance changed concurrently; retry"));
          } else {
            clicks_committed(self, batch);
          }
          after_click_write(self, batch.size());
        },
        [=](caf::error& err) {
          auto& st = self->state;
          --st.click_writes;
          st.recovering = true;
          if (view(err).code == ec::duplicate_click && batch.size() == 1) {
            // Another writer charged this token first (PostgreSQL decides):
            // its ad for its device, so the pair's hour stays marked too.
            auto& q = batch.front();
            st.charged_tokens.mark(q->token, q->now);
            mark_from_last_charge(self, q->key, q->row, q->now);
            record_unbilled(self, q->click, "DUPLICATE_CLICK", q->promise);
            after_click_write(self, 1);
          } else if (view(err).code == ec::duplicate_click) {
            // Which click? Each is judged again after the re-read and
            // written alone: the duplicate one is then told so.
            replay_after_reload(self, batch, true);
            after_click_write(self, 0);
          } else {
            clicks_failed(self, batch, err);
            after_click_write(self, batch.size());
          }
        });
  }
}

void charge_click(self_ptr self, click_request click,
                  caf::typed_response_promise<click_result> promise, bool solo) {
  auto& st = self->state;
  if (passed(click.due)) {
    ++st.expired;
    promise.deliver(deadline_passed());
    return;
  }
  if (st.recovering) {
    park(self, click.due, [=] { charge_click(self, click, promise, solo); },
         [=](const caf::error& err) mutable { promise.deliver(err); });
    return;
  }
  auto now = epoch_seconds();
  // Forget what is old enough: a few marks per click, never a sweep (so a
  // mark past its time may linger a while: both checks look at its age).
  forget_old_marks(self, marks_forgotten_per_click);
  auto key = ad_device_key(click.ad.ad_id, click.ad.device_id);
  auto token = token_key(click);
  bool duplicate =
    st.recent_clicks.marked_within(key, now, duplicate_window_seconds)
    || st.charged_tokens.marked_within(token, now, token_keep_seconds(st.settings));
  auto today = business_today();
  campaign_spend* spend = nullptr;
  if (auto it = st.campaigns.find(click.ad.campaign_id); it != st.campaigns.end()) {
    it->second = roll_to_day(it->second, today);
    spend = &it->second;
  }
  auto price = click.ad.price;
  auto refusal = click_refusal(duplicate, spend, st.advertiser.balance, price, today);
  if (!st.advertiser.audit.activated && refusal.empty())
    refusal = "INSUFFICIENT_BALANCE";
  if (!refusal.empty()) {
    record_unbilled(self, std::move(click), refusal, promise);
    return;
  }
  // Applied in memory at once: the next click is judged against it.
  auto q = std::make_shared<queued_click>();
  auto& w = q->row;
  w = click_row(st, click);
  w.expected_version = st.version;
  w.balance_before = st.advertiser.balance;
  w.balance_after = st.advertiser.balance - price;
  w.amount = price;
  w.memo = "click " + click.ad.ad_id + " device " + click.ad.device_id;
  w.business_date = today;
  st.advertiser.balance = w.balance_after;
  st.version += 1;
  spend->spent_today += price;
  spend->spent_total += price;
  st.recent_clicks.mark(key, now);
  st.charged_tokens.mark(token, now);
  q->key = key;
  q->token = token;
  q->now = now;
  q->spent_today = spend->spent_today;
  q->near_limit = may_leave_ranking(w.balance_after, *spend, click.ad.bid, st.campaigns)
                  || (spend->standard_delivery
                      && pace_step_crossed(spend->spent_today - price, spend->spent_today,
                                           spend->daily_budget));
  q->solo = solo;
  q->click = std::move(click);
  q->promise = std::move(promise);
  ++st.inflight;
  st.click_queue.push_back(std::move(q));
  // Written now if no click write is in flight; otherwise together with the
  // clicks that arrive meanwhile, when it has committed.
  if (st.click_writes == 0)
    write_clicks(self);
}

balance_view make_balance_view(ledger_state& st) {
  balance_view v;
  v.advertiser_id = st.advertiser.id;
  v.balance = st.advertiser.balance;
  v.campaigns = campaigns_today(st);
  return v;
}

}  // namespace

ledger_actor::behavior_type ledger(ledger_actor::stateful_pointer<ledger_state> self,
                                   ledger_init init, io_handles io,
                                   directory_actor directory, auction_router_actor auctions,
                                   ledger_settings settings) {
  self->state.io = std::move(io);
  self->state.settings = settings;
  self->state.last_used = epoch_seconds();
  if (settings.idle_seconds > 0)
    self->delayed_send(self, idle_check_interval(settings), poll_atom::value);
  self->state.directory = std::move(directory);
  self->state.auctions = std::move(auctions);
  apply_init(self->state, std::move(init));
  return {
    [=](get_atom) -> caf::result<advertiser_record> {
      self->state.last_used = epoch_seconds();
      return self->state.advertiser;
    },
    [=](balance_atom, balance_change& change,
        request_meta& meta) -> caf::result<balance_change_result> {
      if (self->state.retiring)
        return make_error(ec::unavailable, "advertiser ledger is being passivated; retry");
      self->state.last_used = epoch_seconds();
      auto promise = self->make_response_promise<balance_change_result>();
      change_balance(self, std::move(change), std::move(meta), promise);
      return promise;
    },
    [=](balance_atom) -> caf::result<balance_view> {
      self->state.last_used = epoch_seconds();
      return make_balance_view(self->state);
    },
    [=](delete_atom, request_meta& meta) -> caf::result<advertiser_record> {
      if (passed(meta.due))
        return deadline_passed();
      auto promise = self->make_response_promise<advertiser_record>();
      auto id = self->state.advertiser.id;
      ++self->state.inflight;  // a retiring ledger answers before it stops
      self->request(self->state.io.writer, caf::infinite, write_atom::value,
                    std::vector<pg_statement>{storage::advertiser_deactivate(id, meta.who)},
                    meta.due, idempotency_ticket{})
        .then(
          [=](const pg_results& results) mutable {
            if (results.empty() || results[0].empty()) {
              promise.deliver(make_error(ec::reference_not_found, "advertiser not found"));
              settle(self);
              return;
            }
            auto rec = storage::parse_advertiser(results[0][0]);
            auto& st = self->state;
            st.advertiser.audit = rec.audit;
            st.advertiser.status = rec.status;
            rec.balance = st.advertiser.balance;
            publish_money_then(self, [=]() mutable { promise.deliver(rec); }, meta.due);
            settle(self);
          },
          [=](caf::error& err) mutable {
            promise.deliver(err);
            settle(self);
          });
      return promise;
    },
    [=](click_atom, click_request& click) -> caf::result<click_result> {
      // The census sees a busy ledger's backlog, not only at its idle check.
      if ((++self->state.census_tick & 63) == 0)
        self->state.census.sample(self->mailbox().size());
      if (self->state.retiring)
        return make_error(ec::unavailable, "advertiser ledger is being passivated; retry");
      self->state.last_used = epoch_seconds();
      auto promise = self->make_response_promise<click_result>();
      charge_click(self, std::move(click), promise);
      return promise;
    },
    [=](campaign_atom, campaign_spend& spend) {
      auto& st = self->state;
      auto today = business_today();
      auto it = st.campaigns.find(spend.campaign_id);
      if (it == st.campaigns.end()) {
        st.campaigns[spend.campaign_id] = roll_to_day(spend, today);
      } else {
        it->second.daily_budget = spend.daily_budget;
        it->second.total_budget = spend.total_budget;
        it->second.max_bid = spend.max_bid;
        it->second.serving = spend.serving;
        it->second.start_date = spend.start_date;
        it->second.end_date = spend.end_date;
        it->second.standard_delivery = spend.standard_delivery;
      }
      share_budgets(st);
    },
    [=](inspect_atom) {
      auto& st = self->state;
      ledger_money_view v;
      v.view = make_balance_view(st);
      v.version = st.version;
      v.inflight = st.inflight;
      return v;
    },
    [=](budget_atom, int64_t campaign_id) -> caf::result<campaign_spend> {
      auto& st = self->state;
      auto it = st.campaigns.find(campaign_id);
      if (it == st.campaigns.end())
        return make_error(ec::reference_not_found,
                          "campaign " + std::to_string(campaign_id)
                            + " is not an active campaign of this advertiser");
      it->second = roll_to_day(it->second, business_today());
      return it->second;
    },
    [=](reload_atom) { reload(self); },
    [=](flush_atom) {
      self->state.forgetting = false;
      forget_old_marks(self, marks_forgotten_per_message);
    },
    [=](poll_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      if (st.retiring)
        return;
      share_budgets(st);  // a new day starts at zero
      forget_old_marks(self, marks_forgotten_per_click);  // also without clicks
      if (st.inflight == 0 && !st.recovering && st.waiting.empty()
          && epoch_seconds() - st.last_used >= st.settings.idle_seconds)
        self->send(st.directory, idle_atom::value, st.advertiser.id, ledger_actor{self});
      self->delayed_send(self, idle_check_interval(st.settings), poll_atom::value);
    },
    [=](retire_atom) {
      auto& st = self->state;
      st.retiring = true;
      if (st.inflight == 0 && !st.recovering)
        stop_ledger(self);
    },
    [=](status_atom) {
      self->state.census.sample(self->mailbox().size());
      auto& st = self->state;
      status_record r;
      r.kind = "advertiser-ledger";
      r.key = std::to_string(st.advertiser.id);
      r.figures = {{"balance", st.advertiser.balance},
                   {"version", st.version},
                   {"lease_epoch", st.lease_epoch},
                   {"inflight", st.inflight},
                   {"click_batches", st.click_batches},
                   {"waiting", static_cast<int64_t>(st.waiting.size())},
                   {"expired", st.expired},
                   {"refused", st.refused},
                   {"database_down", st.database_down ? 1 : 0},
                   {"campaigns", static_cast<int64_t>(st.campaigns.size())},
                   {"changes_committed", st.changes_committed},
                   {"changes_failed", st.changes_failed},
                   {"clicks_charged", st.clicks_charged},
                   {"clicks_unbilled", st.clicks_unbilled},
                   {"others_charges_timed", st.others_charges_timed},
                   {"reloads", st.reloads}};
      r.info["recovering"] = st.recovering ? "true" : "false";
      return r;
    },
  };
}

}  // namespace adserver
