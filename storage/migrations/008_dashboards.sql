-- Real-time campaign dashboards (seed 004). Dashboard-window actors flush
-- their counts additively (metric_value + EXCLUDED.metric_value) under the
-- seed's unique key, so concurrent flushes never lose an increment.
-- 001 created a placeholder of another shape that nothing ever wrote; the
-- table takes seed 004's columns and unique key now.
DROP TABLE IF EXISTS campaign_dashboard_metrics;
CREATE TABLE campaign_dashboard_metrics (
  id                 bigserial   PRIMARY KEY,
  campaign_id        bigint      NOT NULL,
  metric_type        varchar(50) NOT NULL,
  metric_value       bigint      NOT NULL DEFAULT 0,
  time_window_start  timestamptz NOT NULL,
  time_window_end    timestamptz NOT NULL,
  time_window_unit   varchar(20) NOT NULL,
  activated          smallint    NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  created_user_id    text        NOT NULL DEFAULT 'system',
  updated_user_id    text        NOT NULL DEFAULT 'system',
  CONSTRAINT unique_campaign_metric_time
    UNIQUE (campaign_id, metric_type, time_window_start, time_window_end)
);
CREATE INDEX idx_campaign_id_metric_type ON campaign_dashboard_metrics (campaign_id, metric_type);
CREATE INDEX idx_time_window ON campaign_dashboard_metrics (time_window_start, time_window_end);
-- The dashboard reads one campaign's windows of one unit over a range.
CREATE INDEX idx_campaign_unit_start
  ON campaign_dashboard_metrics (campaign_id, time_window_unit, time_window_start);

-- A/B comparison: the same counts per experiment variant, per business day.
CREATE TABLE campaign_variant_metrics (
  id                 bigserial   PRIMARY KEY,
  campaign_id        bigint      NOT NULL,
  exp_key            varchar(100) NOT NULL,
  exp_var            varchar(100) NOT NULL,
  metric_type        varchar(50) NOT NULL,
  metric_value       bigint      NOT NULL DEFAULT 0,
  time_window_start  timestamptz NOT NULL,
  time_window_end    timestamptz NOT NULL,
  activated          smallint    NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  created_user_id    text        NOT NULL DEFAULT 'system',
  updated_user_id    text        NOT NULL DEFAULT 'system',
  CONSTRAINT unique_campaign_variant_metric_time
    UNIQUE (campaign_id, exp_key, exp_var, metric_type, time_window_start, time_window_end)
);
CREATE INDEX idx_variant_campaign_key ON campaign_variant_metrics (campaign_id, exp_key);

-- Per-campaign alert thresholds (NULL: that rule is off).
CREATE TABLE campaign_alert_rules (
  campaign_id             bigint      PRIMARY KEY,
  spend_per_hour_above    bigint,
  ctr_below               double precision,
  ctr_min_impressions     bigint      NOT NULL DEFAULT 100,
  no_impressions_minutes  integer,
  anomaly_detection       boolean     NOT NULL DEFAULT false,
  activated               smallint    NOT NULL DEFAULT 1,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  created_user_id         text        NOT NULL DEFAULT 'system',
  updated_user_id         text        NOT NULL DEFAULT 'system'
);
CREATE TRIGGER campaign_alert_rules_touch BEFORE UPDATE ON campaign_alert_rules
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();

-- Fired alerts: one per rule and window at most.
CREATE TABLE campaign_alerts (
  id                 bigserial   PRIMARY KEY,
  campaign_id        bigint      NOT NULL,
  alert_type         varchar(50) NOT NULL,
  message            text        NOT NULL,
  observed_value     double precision NOT NULL,
  threshold_value    double precision NOT NULL,
  time_window_start  timestamptz NOT NULL,
  fired_at           timestamptz NOT NULL DEFAULT now(),
  activated          smallint    NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  created_user_id    text        NOT NULL DEFAULT 'system',
  updated_user_id    text        NOT NULL DEFAULT 'system',
  CONSTRAINT unique_campaign_alert_window UNIQUE (campaign_id, alert_type, time_window_start)
);
CREATE INDEX idx_campaign_alerts_campaign ON campaign_alerts (campaign_id, fired_at);

-- Advertiser API keys: read-only access to the advertiser's own data. Only
-- the SHA-256 of a key is stored; the key is shown once, at issue.
CREATE TABLE advertiser_api_keys (
  id               bigserial   PRIMARY KEY,
  advertiser_id    bigint      NOT NULL,
  key_hash         char(64)    NOT NULL UNIQUE,
  key_prefix       varchar(16) NOT NULL,
  revoked_at       timestamptz,
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system'
);
CREATE INDEX idx_api_keys_advertiser ON advertiser_api_keys (advertiser_id);
CREATE TRIGGER advertiser_api_keys_touch BEFORE UPDATE ON advertiser_api_keys
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();
CREATE TRIGGER campaign_dashboard_metrics_touch BEFORE UPDATE ON campaign_dashboard_metrics
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();
CREATE TRIGGER campaign_variant_metrics_touch BEFORE UPDATE ON campaign_variant_metrics
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();
CREATE TRIGGER campaign_alerts_touch BEFORE UPDATE ON campaign_alerts
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();
