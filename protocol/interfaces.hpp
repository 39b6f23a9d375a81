#pragma once
// Every actor interface of adserver, one line of doc per message. Lean on
// purpose (no actor_system, no behaviors): include it anywhere.
#include "protocol/atoms.hpp"
#include "protocol/integrity_report.hpp"
#include "protocol/records.hpp"
#include "protocol/serve_reply.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>

#include <chrono>

namespace adserver {

/// What every actor kind answers: its kind, key and a few figures (a small
/// JSON-able record that monitoring and adctl read without knowing the
/// actor's insides). Every interface below extends it.
using status_client_actor = caf::typed_actor<
  caf::replies_to<status_atom>::with<status_record>>;

/// `Base::extend<Sigs...>` (the same type) from caf/fwd.hpp alone: CAF's own
/// member needs the whole typed_actor header, which would add a second to
/// every file that includes this one.
template <class Base, class... Sigs>
struct extend_interface;
template <class... Base, class... Sigs>
struct extend_interface<caf::typed_actor<Base...>, Sigs...> {
  using type = caf::typed_actor<Base..., Sigs...>;
};
template <class Base, class... Sigs>
using extend_interface_t = typename extend_interface<Base, Sigs...>::type;

// -- storage I/O actors (storage/) --------------------------------------------

/// PostgreSQL writer: the only connection that changes data; group commit.
using pg_writer_actor = extend_interface_t<status_client_actor,
  // Run a unit of statements; committed (with others) before the reply.
  caf::replies_to<write_atom, std::vector<pg_statement>>::with<pg_results>,
  // The same for a request: dropped unrun once its deadline passed; the
  // ticket's Idempotency-Key (if any) is recorded in the same transaction.
  caf::replies_to<write_atom, std::vector<pg_statement>, deadline,
                  idempotency_ticket>::with<pg_results>,
  // Internal: reconnect while down; check an idle connection.
  caf::reacts_to<poll_atom>,
  // Internal: commit what has queued up since the last batch.
  caf::reacts_to<flush_atom>>;

/// PostgreSQL reader: read-only queries off the write path.
using pg_reader_actor = extend_interface_t<status_client_actor,
  // Run one read statement.
  caf::replies_to<query_atom, pg_statement>::with<pg_rows>,
  // Internal: reconnect while down; check an idle connection.
  caf::reacts_to<poll_atom>>;

/// Redis mirror writer: pipelined SETs; remembers what it could not write and
/// replays it when Redis returns. Also reads reference values (never money).
using redis_actor = extend_interface_t<status_client_actor,
  // MGET: values aligned with the keys, "" where missing; UNAVAILABLE while down.
  caf::replies_to<get_atom, std::vector<std::string>>::with<std::vector<std::string>>,
  // SET key value [EX ttl_seconds when > 0]; last value per key wins.
  caf::reacts_to<set_atom, std::string, std::string, int64_t>,
  // The same for a JSON object value, merged (true) into the object stored
  // there: keys stored and not in the value are kept (one script, atomic).
  caf::reacts_to<set_atom, std::string, std::string, int64_t, bool>,
  // Replace a sorted set atomically (members, scores); last one per key wins.
  caf::reacts_to<zset_atom, std::string, std::vector<std::string>, std::vector<double>>,
  // XADD key MAXLEN ~ maxlen * field value ... (fields, values); kept, in
  // order, while Redis is down (bounded: the oldest are dropped and counted).
  caf::reacts_to<xadd_atom, std::string, std::vector<std::string>, int64_t>,
  // Internal: send what has queued up.
  caf::reacts_to<flush_atom>,
  // Internal: reconnect and replay while Redis is down.
  caf::reacts_to<poll_atom>>;

/// Dashboard stream reader: follows campaigns' Redis Streams for SSE clients
/// on one blocking connection (XREAD BLOCK over every followed key), so a
/// stream costs no thread. Keeps subscribers while Redis is down and resumes
/// from each one's last delivered id.
using stream_reader_actor = extend_interface_t<status_client_actor,
  // Follow a stream: entries after the subscriber's id, in order, once each.
  caf::reacts_to<watch_atom, stream_subscriber>,
  // Internal: read what arrived (blocks at most ~250 ms); reconnect when down.
  caf::reacts_to<poll_atom>>;

/// Kafka producer: idempotent; spools to disk while brokers are unreachable.
using kafka_actor = extend_interface_t<status_client_actor,
  // Publish one event (fire and forget; spooled while brokers are away;
  // what Kafka refuses for good is dead-lettered, never silently dropped).
  caf::reacts_to<publish_atom, kafka_event>,
  // Internal: serve delivery reports, replay the spool.
  caf::reacts_to<poll_atom>>;

// -- state owners (actors/) -----------------------------------------------------

/// advertiser-ledger, one per advertiser: the single writer of its money.
using ledger_actor = extend_interface_t<status_client_actor,
  // The advertiser with its current balance.
  caf::replies_to<get_atom>::with<advertiser_record>,
  // Charge or deduct; durable in PostgreSQL before the reply. Fails at once
  // (503) while the database is unreachable; dropped past its deadline.
  caf::replies_to<balance_atom, balance_change, request_meta>::with<balance_change_result>,
  // Balance and today's spend per campaign.
  caf::replies_to<balance_atom>::with<balance_view>,
  // The same with version and uncommitted writes, for reconciliation; does
  // not count as use (an inspected ledger still goes idle).
  caf::replies_to<inspect_atom>::with<ledger_money_view>,
  // Soft delete the advertiser (activated = 0).
  caf::replies_to<delete_atom, request_meta>::with<advertiser_record>,
  // Charge a click at its auction price unless duplicate or over a limit;
  // durable before the reply; CLICK published either way.
  caf::replies_to<click_atom, click_request>::with<click_result>,
  // A campaign's budgets were created or changed.
  caf::reacts_to<campaign_atom, campaign_spend>,
  // One campaign's budgets and spend.
  caf::replies_to<budget_atom, int64_t>::with<campaign_spend>,
  // Internal: re-read committed state after a failed write (with back-off).
  caf::reacts_to<reload_atom>,
  // Internal: tell the directory when idle for entities.idle_seconds.
  caf::reacts_to<poll_atom>,
  // Internal: forget duplicate marks past their time, a chunk at a time.
  caf::reacts_to<flush_atom>,
  // The directory forgot this idle ledger: finish what is in flight and stop
  // (all its state is in PostgreSQL; the next use activates a new one).
  caf::reacts_to<retire_atom>>;

/// The ledgers a directory holds in memory.
struct held_ledgers {
  std::vector<int64_t> ids;
  std::vector<ledger_actor> ledgers;  // aligned with ids
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, held_ledgers& x) {
  return f(caf::meta::type_name("held_ledgers"), x.ids, x.ledgers);
}

/// campaign, one per campaign: configuration, status, bids, budgets.
using campaign_actor = extend_interface_t<status_client_actor,
  // The campaign with bids and targeting.
  caf::replies_to<get_atom>::with<campaign_record>,
  // Change status (ACTIVE, PAUSED, ENDED) along the allowed transitions.
  caf::replies_to<transition_atom, std::string, request_meta>::with<campaign_record>,
  // Replace bids for the given placements.
  caf::replies_to<bids_atom, placement_bids, request_meta>::with<campaign_record>,
  // Set the delivery (STANDARD paced, ACCELERATED); published like any change.
  caf::replies_to<delivery_atom, std::string, request_meta>::with<campaign_record>,
  // Soft delete.
  caf::replies_to<delete_atom, request_meta>::with<campaign_record>,
  // Budgets with spend (asks the advertiser's ledger).
  caf::replies_to<budget_atom>::with<budget_view>,
  // Count impressions and clicks (quality statistics; flushed to PostgreSQL).
  caf::reacts_to<track_atom, int64_t, int64_t>,
  // An impression of one of its tokens (claims, session): counted and
  // published (IMPRESSION) once per token, replays ignored.
  caf::reacts_to<impression_atom, token_claims, std::string>,
  // Internal: write the counted statistics.
  caf::reacts_to<flush_atom>,
  // Internal: tell the directory when idle for entities.idle_seconds.
  caf::reacts_to<poll_atom>,
  // The directory forgot this idle campaign: write its statistics and stop.
  caf::reacts_to<retire_atom>>;

/// Product metadata (ad_products_meta), cached.
using catalog_actor = extend_interface_t<status_client_actor,
  // Create a product.
  caf::replies_to<create_atom, product_record, request_meta>::with<product_record>,
  // Read a product by product_id.
  caf::replies_to<get_atom, std::string>::with<product_record>>;

/// session-experiment, sharded by session id: price-experiment post-processing
/// of served slates and each session's experiment codes (24 h).
using session_experiment_actor = extend_interface_t<status_client_actor,
  // Swap in the experiment codes in force for the request's exp_key/exp_var,
  // remember them for the session (Redis experiment:mapping:{session_id}),
  // sign, answer the reply.
  caf::reacts_to<experiment_atom, slate, serve_reply>,
  // Remember the codes another node served to a session this node owns
  // (codes: what it swapped in, possibly none), and mirror them to Redis.
  caf::reacts_to<experiment_atom, session_mapping>,
  // A session's experiment codes (found = false: none in memory).
  caf::replies_to<inspect_atom, std::string>::with<session_view>,
  // Mappings were created or deleted: re-read them on next use.
  caf::reacts_to<reload_atom>,
  // Internal: forget sessions past their 24 h.
  caf::reacts_to<poll_atom>>;

/// auction, one per placement:category (SEARCH: per normalized keyword): the
/// ranked, priced candidate list, served from memory.
using auction_actor = extend_interface_t<status_client_actor,
  // The best eligible ads for a request, ranked and priced, with tokens, to
  // the reply (experiment requests: finished by their session's shard).
  caf::reacts_to<serve_atom, ad_request, serve_reply>,
  // The ranked list with scores, pCTR and prices (loads first when cold).
  caf::replies_to<inspect_atom>::with<auction_view>,
  // An advertiser's money changed: update its candidates, re-rank in memory.
  caf::reacts_to<money_atom, advertiser_money>,
  // A campaign changed: if this auction holds or may hold it, rebuild from
  // PostgreSQL before answering the next request.
  caf::reacts_to<campaign_atom, campaign_record>,
  // The router forgot this idle auction: drop the Redis mirror and stop.
  caf::reacts_to<retire_atom>,
  // Internal: tell the router when idle for ads.auction_idle_seconds.
  caf::reacts_to<poll_atom>,
  // Internal: a new business day began; reload today's spend.
  caf::reacts_to<reload_atom>>;

/// Conversions: attribution to the device's last click, counted once per order.
using conversion_actor = extend_interface_t<status_client_actor,
  // Attribute, store (once per order and product), publish to conversion-events.
  caf::replies_to<convert_atom, conversion_request>::with<conversion_lines>>;

/// Experiment mappings (experiment_mapping): original -> experiment product code
/// per exp_key/exp_var and date range.
using experiments_actor = extend_interface_t<status_client_actor,
  // Create a mapping.
  caf::replies_to<create_atom, experiment_mapping, request_meta>::with<experiment_mapping>,
  // Active mappings, all or of one exp_key ("" = all).
  caf::replies_to<list_atom, std::string>::with<experiment_mappings>,
  // Soft delete a mapping.
  caf::replies_to<delete_atom, int64_t, request_meta>::with<experiment_mapping>>;

/// dashboard-window, one per campaign: MINUTE/HOUR/DAY windows of its events
/// (protocol/dashboard_windows.hpp, actors/dashboard_logic.hpp), flushed additively to PostgreSQL; every
/// event appended to Redis Stream campaign:dashboard:stream:{id}; alert rules.
using dashboard_window_actor = extend_interface_t<status_client_actor,
  // An impression, click or attributed conversion of this campaign.
  caf::reacts_to<track_atom, dashboard_event>,
  // Its alert thresholds were set (all rules off: none).
  caf::reacts_to<alert_atom, alert_rules>,
  // Internal: write pending counts (every dashboards.flush_ms).
  caf::reacts_to<flush_atom>,
  // Internal: check alert rules; tell the dashboards actor when idle.
  caf::reacts_to<poll_atom>,
  // The dashboards actor forgot this idle window: write what it holds
  // (retrying while PostgreSQL is away), then stop.
  caf::reacts_to<retire_atom>,
  // The node stops: one last write of what it holds, then stop.
  caf::reacts_to<stop_atom>>;

/// dashboards: places dashboard-window actors, one per campaign, activated on
/// first use and passivated when idle (kept while the campaign has alerts).
using dashboards_actor = extend_interface_t<status_client_actor,
  // An event for a campaign's window (activated on first use).
  caf::reacts_to<track_atom, dashboard_event>,
  // A campaign's alert rules changed.
  caf::reacts_to<alert_atom, alert_rules>,
  // A window has been idle: forget and retire it.
  caf::reacts_to<idle_atom, int64_t, dashboard_window_actor>,
  // Internal: load the campaigns with alert rules (their windows stay active).
  caf::reacts_to<reload_atom>,
  // Internal: delete MINUTE rows past dashboards.minute_retention_days
  // (hourly, in bounded batches).
  caf::reacts_to<flush_atom>,
  // The node stops: every window writes what it holds and stops; true once
  // all have (before pg-writer may stop).
  caf::replies_to<stop_atom>::with<bool>>;

/// integrity: the data integrity check of seed 000 §12 (orphan and
/// inconsistent rows; there are no foreign keys), every
/// integrity.interval_seconds and on demand, on a reporting reader.
using integrity_actor = extend_interface_t<status_client_actor,
  // Run every check now (a run under way is joined); its report.
  caf::replies_to<check_atom>::with<integrity_report>,
  // The last report; NOT_FOUND before the first run.
  caf::replies_to<get_atom>::with<integrity_report>,
  // Internal: the scheduled run.
  caf::reacts_to<poll_atom>>;

/// traffic: the node's ad requests per placement and business hour, added to
/// ad_traffic_hourly every minute, and the hourly curves of the last 7
/// business days that STANDARD pacing spreads daily budgets over.
using traffic_actor = extend_interface_t<status_client_actor,
  // The curves per placement (cached; refreshed every 10 minutes and daily).
  caf::replies_to<traffic_atom>::with<traffic_curves>,
  // Internal: write the counts since the last write; refresh the curves.
  caf::reacts_to<poll_atom>,
  // The node stops: write what is counted; true once written (or failed).
  caf::replies_to<stop_atom>::with<bool>>;

/// auction-router: the node's auctions (spawned on first use, retired when
/// idle) and what campaigns target, published for the I/O threads
/// (actors/auction_routes.hpp), which send a request straight to its running
/// auction; money and campaign changes passed on to the auctions they concern.
using auction_router_actor = extend_interface_t<status_client_actor,
  // Serve an ad request whose auction is not running: spawned, then served.
  caf::reacts_to<serve_atom, ad_request, serve_reply>,
  // The ranked list of the auction that would serve this request.
  caf::replies_to<inspect_atom, ad_request>::with<auction_view>,
  // An advertiser's money changed (from its ledger): to the auctions holding
  // it. As a request, answered once they have it (read your writes).
  caf::reacts_to<money_atom, advertiser_money>,
  // A campaign changed: its targeting, and every auction. As a request,
  // answered once they have it (read your writes).
  caf::reacts_to<campaign_atom, campaign_record>,
  // A campaign was created (PENDING: no auction can hold it yet): its
  // targeting only. As a request, answered once known.
  caf::reacts_to<create_atom, campaign_record>,
  // An auction has been idle: forget and retire it (what was already passed
  // on to it is served first; the next request for its key spawns a new one).
  caf::reacts_to<idle_atom, std::string, auction_actor>,
  // An auction holds these advertisers' campaigns: pass it their money
  // changes only.
  caf::reacts_to<watch_atom, std::string, std::vector<int64_t>>,
  // An auction is (re)loading: pass it every money change until it names
  // its advertisers again (what it reads may predate a change).
  caf::reacts_to<watch_atom, std::string>,
  // Internal: merge what campaigns target, as PostgreSQL has it.
  caf::reacts_to<poll_atom>,
  // The same changes, made on another node (its router sent them through
  // the gateways): passed to this node's auctions, not sent on again.
  caf::reacts_to<peer_atom, advertiser_money>,
  // A campaign changed (false) or was created (true) on another node.
  caf::reacts_to<peer_atom, campaign_record, bool>>;

/// node-gateway: what a node's peers may send it over the middleman (the
/// one actor each node publishes on cluster.actor_port).
using node_gateway_actor = extend_interface_t<status_client_actor,
  // An HTTP request another node received for an entity this node owns:
  // answered as if it had come here.
  caf::replies_to<forward_atom, forwarded_request>::with<forwarded_reply>,
  // Internal: a forwarded request's answer, from an HTTP handler's thread.
  caf::reacts_to<answer_atom, uint64_t, forwarded_reply>,
  // Internal: answer 503 for what is past its deadline.
  caf::reacts_to<poll_atom>,
  // Money and campaign changes made on the sending node, for this node's
  // auctions.
  caf::reacts_to<peer_atom, advertiser_money>,
  caf::reacts_to<peer_atom, campaign_record, bool>,
  // Experiment mappings changed on the sending node: re-read them.
  caf::reacts_to<peer_atom, reload_atom>,
  // An advertiser API key was issued or revoked on the sending node: re-read
  // the keys now, not at the next periodic refresh.
  caf::reacts_to<peer_atom, keys_atom>,
  // The experiment codes the sending node served to a session this node
  // owns: remembered by the session's shard here (one record, one writer of
  // its Redis mirror).
  caf::reacts_to<experiment_atom, session_mapping>>;

/// How long a state owner waits for the auction router to take a change
/// before answering its client anyway (the change is committed by then).
constexpr std::chrono::seconds change_ack_timeout{1};

/// directory: places and activates (from PostgreSQL) the node's entity
/// actors, advertiser ledgers and campaigns, and passes work on to them.
using directory_actor = extend_interface_t<status_client_actor,
  // The ledger of an advertiser, activated on first use.
  caf::replies_to<ledger_atom, int64_t>::with<ledger_actor>,
  // The actor of a campaign, activated on first use.
  caf::replies_to<campaign_atom, int64_t>::with<campaign_actor>,
  // Charge a click: delegated to the advertiser's ledger (activated on first
  // use), which answers the caller.
  caf::replies_to<click_atom, click_request>::with<click_result>,
  // The ledgers in memory (reconciliation asks them directly).
  caf::replies_to<list_atom, ledger_atom>::with<held_ledgers>,
  // A campaign changed (from the campaign actor, which tells the auction
  // router itself): its ledger's limits.
  caf::reacts_to<campaign_atom, campaign_record>,
  // A ledger or campaign has been idle: forget and retire it (passivation;
  // memory follows what is in use).
  caf::reacts_to<idle_atom, int64_t, ledger_actor>,
  caf::reacts_to<idle_atom, int64_t, campaign_actor>,
  // Count an impression (1, 0) or click (0, 1) for a campaign.
  caf::reacts_to<track_atom, int64_t, int64_t, int64_t>,
  // An impression of a token: passed to its campaign's actor.
  caf::reacts_to<impression_atom, token_claims, std::string>,
  // Take the advertiser's ledger lease again (another node held it), first
  // tried at this Unix ms.
  caf::reacts_to<activate_atom, int64_t, int64_t>,
  // Internal: retire the entities another node owns since the members
  // changed.
  caf::reacts_to<poll_atom>>;

/// membership: renews this node's row in cluster_members every
/// cluster.heartbeat_ms on a connection of its own (heartbeats never queue
/// behind money), and reads the members back into the cluster view.
using membership_actor = extend_interface_t<status_client_actor,
  // Internal: the next heartbeat.
  caf::reacts_to<poll_atom>,
  // This node's HTTP base URL, once it listens (written to its row).
  caf::reacts_to<set_atom, std::string>,
  // The members as last read.
  caf::replies_to<list_atom>::with<std::vector<cluster_member>>,
  // Leave: delete this node's row (orderly stop; its leases become free);
  // true once written.
  caf::replies_to<stop_atom>::with<bool>>;

/// registrar: creates advertisers and campaigns (references checked by the
/// application, written, their owners told), so creation never queues in
/// front of serving or activation.
using registrar_actor = extend_interface_t<status_client_actor,
  // Register an advertiser (unique business number); the ticket's
  // Idempotency-Key is recorded with it.
  caf::replies_to<create_atom, advertiser_spec, request_meta>::with<advertiser_record>,
  // Create a campaign (PENDING) after checking its references; the ticket's
  // Idempotency-Key is recorded with it.
  caf::replies_to<create_atom, campaign_record, request_meta>::with<campaign_record>>;

}  // namespace adserver
