-- Quality statistics per campaign (impressions, clicks -> smoothed pCTR).
-- Written additively (value + EXCLUDED.value), so no increment is lost.
CREATE TABLE ad_campaign_stats (
  campaign_id      bigint      PRIMARY KEY,
  impressions      bigint      NOT NULL DEFAULT 0,
  clicks           bigint      NOT NULL DEFAULT 0,
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system'
);
CREATE TRIGGER ad_campaign_stats_touch BEFORE UPDATE ON ad_campaign_stats
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();
