#include "config/settings.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace adserver {

namespace {

struct option {
  const char* key;
  const char* doc;
  std::function<bool(settings&, const std::string&, std::string&)> set;
};

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
    ++i;
  return s.substr(i);
}

template <class Int>
std::function<bool(settings&, const std::string&, std::string&)>
integer(Int settings::*field, int64_t lo, int64_t hi) {
  return [=](settings& s, const std::string& v, std::string& why) {
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || x < lo || x > hi) {
      why = "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
      return false;
    }
    s.*field = static_cast<Int>(x);
    return true;
  };
}

std::function<bool(settings&, const std::string&, std::string&)>
text(std::string settings::*field, bool required) {
  return [=](settings& s, const std::string& v, std::string& why) {
    if (required && v.empty()) {
      why = "must not be empty";
      return false;
    }
    s.*field = v;
    return true;
  };
}

const std::vector<option>& options() {
  static const std::vector<option> all = {
    {"http.address", "address the HTTP server binds (default 127.0.0.1)",
     text(&settings::http_address, true)},
    {"http.port", "HTTP port (default 8080; 0 picks a free port)",
     integer(&settings::http_port, 0, 65535)},
    {"http.io_threads", "threads serving HTTP connections (default 2)",
     integer(&settings::http_io_threads, 1, 64)},
    {"http.body_limit", "largest request body in bytes; larger gets 413 (default 1048576)",
     integer(&settings::http_body_limit, 1024, 64 << 20)},
    {"http.header_limit", "largest request header block in bytes; larger gets 431 (default 8192)",
     integer(&settings::http_header_limit, 1024, 1 << 20)},
    {"http.idle_timeout_ms",
     "a connection idle or sending a request slower than this is closed (default 30000)",
     integer(&settings::http_idle_timeout_ms, 100, 3600000)},
    {"http.max_connections", "open connections above this are refused (default 10000)",
     integer(&settings::http_max_connections, 1, 1000000)},
    {"http.max_connections_per_address",
     "open connections from one client address above this are refused (default 256)",
     integer(&settings::http_max_connections_per_address, 1, 1000000)},
    {"http.api_deadline_ms",
     "every /api request is answered within this: its result or 503 (default 2000)",
     integer(&settings::http_api_deadline_ms, 100, 600000)},
    {"http.admin_deadline_ms",
     "every /admin request is answered within this: its result or 503 (default 10000)",
     integer(&settings::http_admin_deadline_ms, 100, 600000)},
    {"http.deadline_margin_ms",
     "actors drop a request's work this long before its deadline (default 500; at most half the deadline)",
     integer(&settings::http_deadline_margin_ms, 10, 60000)},
    {"postgres.statement_timeout_ms",
     "bounds every PostgreSQL statement, server- and client-side (default 2000)",
     integer(&settings::postgres_statement_timeout_ms, 100, 600000)},
    {"postgres.counters_linger_ms",
     "dashboard and traffic counts wait up to this long to share one commit; 0: at once; "
     "clicks never wait (default 200, at most 1000)",
     integer(&settings::postgres_counters_linger_ms, 0, 1000)},
    {"entities.idle_seconds",
     "ledgers and campaign actors unused this long are passivated; 0 never (default 600)",
     integer(&settings::entities_idle_seconds, 0, 30 * 86400)},
    {"ledger.max_parked",
     "requests that may wait while a ledger re-reads its state after a failed write (default 64)",
     integer(&settings::ledger_max_parked, 0, 100000)},
    {"actors.threads", "actor scheduler threads (default 2)",
     integer(&settings::actor_threads, 1, 64)},
    {"postgres.conninfo", "libpq connection string of the PostgreSQL database",
     text(&settings::postgres_conninfo, true)},
    {"redis.host", "Redis host (default 127.0.0.1)", text(&settings::redis_host, true)},
    {"redis.port", "Redis port (default 56379)", integer(&settings::redis_port, 1, 65535)},
    {"kafka.brokers",
     "\"embedded\" (librdkafka's in-process mock cluster) or host:port,host:port",
     text(&settings::kafka_brokers, true)},
    {"kafka.partitions", "partitions per topic of the embedded cluster (default 3)",
     integer(&settings::kafka_partitions, 1, 64)},
    {"kafka.spool_path", "file that holds events while brokers are unreachable",
     text(&settings::kafka_spool_path, true)},
    {"kafka.message_timeout_ms",
     "after this long undelivered events move to the spool (default 10000)",
     integer(&settings::kafka_message_timeout_ms, 100, 3600000)},
    {"kafka.max_message_bytes",
     "largest event (key + payload) the producer sends (its message.max.bytes); a larger one "
     "goes to the dead-letter file <spool_path>.dead (default 1000000)",
     integer(&settings::kafka_max_message_bytes, 1000, 1000000000)},
    {"kafka.spool_max_bytes",
     "undelivered bytes the spool may hold; when reached, events go to the dead-letter file and "
     "tracking endpoints answer 503 (default 268435456)",
     integer(&settings::kafka_spool_max_bytes, 1, int64_t{1} << 40)},
    {"admin.tokens",
     "admin bearer tokens: principal:token[,principal:token...]; the principal fills "
     "created_user_id/updated_user_id (required)",
     [](settings& s, const std::string& v, std::string& why) {
       s.admin_tokens.clear();
       s.admin_tokens_raw = v;
       std::stringstream in(v);
       std::string item;
       while (std::getline(in, item, ',')) {
         item = trim(item);
         if (item.empty())
           continue;
         auto colon = item.find(':');
         std::string who = colon == std::string::npos ? "admin" : trim(item.substr(0, colon));
         std::string token = colon == std::string::npos ? item : trim(item.substr(colon + 1));
         if (token.size() < 16 || who.empty()) {
           why = "each token must have at least 16 characters (principal:token)";
           return false;
         }
         s.admin_tokens[token] = who;
       }
       if (s.admin_tokens.empty()) {
         why = "at least one admin token is required";
         return false;
       }
       return true;
     }},
    {"admin.announce_token", "print the first admin token when ready (quickstart only)",
     [](settings& s, const std::string& v, std::string& why) {
       if (v != "true" && v != "false") {
         why = "must be true or false";
         return false;
       }
       s.admin_announce_token = v == "true";
       return true;
     }},
    {"security.hmac_secret", "secret that signs tracking tokens, at least 32 characters",
     [](settings& s, const std::string& v, std::string& why) {
       if (v.size() < 32) {
         why = "must have at least 32 characters";
         return false;
       }
       s.hmac_secret = v;
       return true;
     }},
    {"ads.reserve_price", "what the last ranked ad pays per click, in won (default 10)",
     integer(&settings::ads_reserve_price, 1, 1000000000)},
    {"pacing.allowance_percent",
     "a STANDARD campaign may spend this percentage of its daily budget ahead of its "
     "paced target (default 2)",
     integer(&settings::pacing_allowance_percent, 0, 100)},
    {"pacing.curve",
     "learned (the hourly traffic of the last 7 days) or uniform (spread evenly over the "
     "day) (default learned)",
     [](settings& s, const std::string& v, std::string& why) {
       if (v != "learned" && v != "uniform") {
         why = "must be learned or uniform";
         return false;
       }
       s.pacing_curve = v;
       return true;
     }},
    {"pacing.traffic_flush_seconds",
     "ad requests per placement and hour are added to ad_traffic_hourly this often "
     "(default 60)",
     integer(&settings::pacing_traffic_flush_seconds, 1, 3600)},
    {"ads.stats_refresh_seconds",
     "auctions re-read impression/click statistics this often (default 30)",
     integer(&settings::ads_stats_refresh_seconds, 1, 86400)},
    {"ads.token_ttl_seconds", "tracking tokens expire after this long (default 3600)",
     integer(&settings::ads_token_ttl_seconds, 60, 7 * 86400)},
    {"ads.baseline_ctr",
     "CTR a new campaign starts from where Redis has no defense:category:{path}:ctr "
     "(default 0.01)",
     [](settings& s, const std::string& v, std::string& why) {
       char* end = nullptr;
       double x = std::strtod(v.c_str(), &end);
       if (v.empty() || *end != '\0' || !(x > 0 && x <= 1)) {
         why = "must be a number above 0 and at most 1";
         return false;
       }
       s.ads_baseline_ctr = x;
       return true;
     }},
    {"ads.impression_memory",
     "impression tokens remembered per campaign so a replay is not counted again (default 250000)",
     integer(&settings::ads_impression_memory, 0, 100000000)},
    {"dashboards.enabled",
     "1: dashboard windows count every impression, click and conversion; 0: off "
     "(default 1)",
     integer(&settings::dashboards_enabled, 0, 1)},
    {"dashboards.flush_ms",
     "dashboard counts are written to PostgreSQL this often; a crash loses at most this much "
     "of them, never money (default 1000)",
     integer(&settings::dashboards_flush_ms, 10, 60000)},
    {"dashboards.stream_maxlen",
     "each campaign's Redis Stream is trimmed to about this many events (default 10000)",
     integer(&settings::dashboards_stream_maxlen, 10, 10000000)},
    {"dashboards.max_users_per_window",
     "users remembered per open window for UNIQUE_USER_COUNT; beyond, each further user counts "
     "as new (default 100000)",
     integer(&settings::dashboards_max_users_per_window, 1, 100000000)},
    {"dashboards.alert_check_seconds",
     "alert rules are judged this often (default 30)",
     integer(&settings::dashboards_alert_check_seconds, 1, 3600)},
    {"dashboards.max_streams_per_key",
     "concurrent dashboard streams (SSE) per admin token or advertiser key; more get 429 "
     "(default 5)",
     integer(&settings::dashboards_max_streams_per_key, 1, 100000)},
    {"dashboards.minute_retention_days",
     "MINUTE dashboard rows are kept this many days; HOUR and DAY rows are kept (default 7)",
     integer(&settings::dashboards_minute_retention_days, 1, 3650)},
    {"dashboards.readers",
     "PostgreSQL connections for dashboard queries, apart from the serving path's (default 2)",
     integer(&settings::dashboards_readers, 1, 32)},
    {"ads.auction_idle_seconds",
     "an auction unused this long retires; the next request for its key starts a new one "
     "(default 600)",
     integer(&settings::ads_auction_idle_seconds, 1, 7 * 86400)},
    {"experiments.session_shards",
     "session-experiment actors; a session always lands on the same one (default 4)",
     integer(&settings::experiments_session_shards, 1, 1024)},
    {"experiments.max_sessions",
     "sessions whose experiment codes are kept in memory, over all shards (default 1000000)",
     integer(&settings::experiments_max_sessions, 1, 1000000000)},
    {"experiments.refresh_seconds",
     "experiment mappings are re-read in the background this often; changes through the "
     "admin API apply at once (default 60)",
     integer(&settings::experiments_refresh_seconds, 1, 86400)},
    {"rate_limit.device_per_second",
     "public endpoints: requests per second per device_id, burst 2x; 0 = off (default 50)",
     integer(&settings::rate_limit_device_per_second, 0, 1000000)},
    {"rate_limit.address_per_second",
     "public endpoints: requests per second per client address, burst 2x; 0 = off (default)",
     integer(&settings::rate_limit_address_per_second, 0, 1000000)},
    {"time_zone", "business time zone: defines today for daily budgets (default Asia/Seoul)",
     text(&settings::time_zone, true)},
    {"node.name",
     "this node's name in logs, /metrics and the realtime view (default: host name:HTTP port)",
     text(&settings::node_name, false)},
    {"cluster.actor_port",
     "TCP port on which this node's gateway actor is published for its peers (CAF "
     "middleman); 0: single node (default 0)",
     integer(&settings::cluster_actor_port, 0, 65535)},
    {"cluster.actor_host",
     "address the gateway actor listens on and peers connect to (default 127.0.0.1)",
     text(&settings::cluster_actor_host, true)},
    {"cluster.heartbeat_ms",
     "this node renews its membership row this often and re-reads the members "
     "(default 1000)",
     integer(&settings::cluster_heartbeat_ms, 100, 60000)},
    {"cluster.lease_ms",
     "a membership not renewed for this long is dead: its ledger leases may be taken "
     "(default 3000)",
     integer(&settings::cluster_lease_ms, 300, 600000)},
    {"log.level",
     "debug, info (one JSON line per request), warn or error (default info)",
     [](settings& s, const std::string& v, std::string& why) {
       if (v != "debug" && v != "info" && v != "warn" && v != "error") {
         why = "must be debug, info, warn or error";
         return false;
       }
       s.log_level = v;
       return true;
     }},
    {"integrity.interval_seconds",
     "the data integrity check runs this often; 0: only on demand (default 86400)",
     integer(&settings::integrity_interval_seconds, 0, 365 * 86400)},
    {"integrity.first_run_seconds",
     "the first scheduled integrity check runs this long after start (default 300)",
     integer(&settings::integrity_first_run_seconds, 1, 7 * 86400)},
    {"integrity.statement_timeout_ms",
     "statement timeout of the reporting connection that runs the integrity checks and "
     "reconciliations (default 300000)",
     integer(&settings::integrity_statement_timeout_ms, 1000, 86400000)},
  };
  return all;
}

std::string env_name(const std::string& key) {
  std::string out = "ADSERVER_";
  for (char c : key)
    out += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

struct raw_value {
  std::string value;
  std::string source;
};
using raw_values = std::map<std::string, raw_value>;

bool known(const std::string& key) {
  for (auto& o : options())
    if (key == o.key)
      return true;
  return false;
}

/// Later sources overwrite earlier ones; only the final value is validated.
bool collect(raw_values& into, const std::string& key, const std::string& value,
             const std::string& source, std::string& err) {
  if (!known(key)) {
    err = "unknown option " + key + " (" + source + ")";
    return false;
  }
  into[key] = {value, source};
  return true;
}

bool apply(settings& s, const std::string& key, const std::string& value,
           const std::string& source, std::string& err) {
  for (auto& o : options())
    if (key == o.key) {
      std::string why;
      if (!o.set(s, value, why)) {
        err = "invalid option " + key + " (" + source + "): " + why;
        return false;
      }
      return true;
    }
  err = "unknown option " + key + " (" + source + ")";
  return false;
}

bool load_file(const std::string& path, raw_values& s, std::string& err) {
  std::ifstream in(path);
  if (!in) {
    err = "cannot read configuration file " + path;
    return false;
  }
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto hash = line.find('#');
    if (hash != std::string::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty())
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      err = path + ":" + std::to_string(n) + ": expected key = value";
      return false;
    }
    if (!collect(s, trim(line.substr(0, eq)), trim(line.substr(eq + 1)),
                 path + ":" + std::to_string(n), err))
      return false;
  }
  return true;
}

}  // namespace

std::string masked_option(const std::string& key, const std::string& value) {
  if (key == "security.hmac_secret")
    return "****";
  if (key == "admin.tokens") {
    // Principals stay readable; tokens do not.
    std::string out;
    std::stringstream in(value);
    std::string item;
    while (std::getline(in, item, ',')) {
      item = trim(item);
      if (item.empty())
        continue;
      auto colon = item.find(':');
      out += (out.empty() ? "" : ",")
             + (colon == std::string::npos ? std::string{"admin"} : trim(item.substr(0, colon)))
             + ":****";
    }
    return out;
  }
  if (key == "postgres.conninfo") {
    // key=value pairs; a password (or a URI's user:password@) is masked.
    std::string out = value;
    for (auto at = out.find("password"); at != std::string::npos;
         at = out.find("password", at + 1)) {
      auto eq = out.find('=', at);
      if (eq == std::string::npos)
        break;
      auto start = eq + 1;
      while (start < out.size() && out[start] == ' ')
        ++start;
      auto end = start;
      if (end < out.size() && out[end] == '\'') {
        // Quoted: up to the closing quote; \' and \\ are escapes inside.
        ++end;
        while (end < out.size() && out[end] != '\'')
          end += out[end] == '\\' ? 2 : 1;
        end = std::min(out.size(), end + 1);
      } else {
        while (end < out.size() && out[end] != ' ')
          ++end;
      }
      out.replace(start, end - start, "****");
    }
    if (auto scheme = out.find("://"); scheme != std::string::npos) {
      auto at = out.find('@', scheme);
      auto colon = out.find(':', scheme + 3);
      if (at != std::string::npos && colon != std::string::npos && colon < at)
        out.replace(colon + 1, at - colon - 1, "****");
    }
    return out;
  }
  return value;
}

std::string settings_help() {
  std::string out = "usage: adserver [--config FILE] [--migrate-only] [--key=value ...]\n\noptions "
                    "(file key, environment variable, flag):\n";
  for (auto& o : options())
    out += "  " + std::string{o.key} + "  (" + env_name(o.key) + ", --" + o.key + ")\n      "
           + o.doc + "\n";
  return out;
}

bool load_settings(int argc, char** argv, settings& out, std::string& err, bool& help) {
  help = false;
  settings s;
  std::vector<std::pair<std::string, std::string>> flags;
  std::string config_file;
  if (const char* env = std::getenv("ADSERVER_CONFIG"))
    config_file = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help = true;
      return true;
    }
    if (arg == "--migrate-only") {
      s.migrate_only = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      err = "unexpected argument " + arg;
      return false;
    }
    arg = arg.substr(2);
    std::string key = arg;
    std::string value;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      key = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      err = "option --" + key + " needs a value";
      return false;
    }
    if (key == "config")
      config_file = value;
    else
      flags.emplace_back(key, value);
  }
  raw_values raw;
  if (!config_file.empty() && !load_file(config_file, raw, err))
    return false;
  for (auto& o : options())
    if (const char* v = std::getenv(env_name(o.key).c_str()))
      if (!collect(raw, o.key, v, "environment " + env_name(o.key), err))
        return false;
  for (auto& [k, v] : flags)
    if (!collect(raw, k, v, "flag --" + k, err))
      return false;
  for (auto& [k, v] : raw) {
    if (!apply(s, k, v.value, v.source, err))
      return false;
    s.applied.push_back({k, masked_option(k, v.value), v.source});
  }
  if (s.migrate_only) {
    out = std::move(s);
    return true;
  }
  if (s.admin_tokens.empty()) {
    err = "missing option admin.tokens: at least one admin token is required";
    return false;
  }
  if (s.hmac_secret.empty()) {
    err = "missing option security.hmac_secret: the tracking token secret is required";
    return false;
  }
  out = std::move(s);
  return true;
}

}  // namespace adserver
