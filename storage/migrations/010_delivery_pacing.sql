-- Campaign delivery (SPEC.md "Campaign delivery"). Campaigns created before
-- this migration keep the unpaced delivery they were created with; new
-- campaigns are STANDARD (paced over the business day) unless they ask.
ALTER TABLE ad_campaigns ADD COLUMN delivery text NOT NULL DEFAULT 'ACCELERATED'
  CHECK (delivery IN ('STANDARD', 'ACCELERATED'));
ALTER TABLE ad_campaigns ALTER COLUMN delivery SET DEFAULT 'STANDARD';

-- Ad requests per placement and business hour: the traffic curve STANDARD
-- pacing spreads a daily budget over. Nodes add their counts
-- (requests + EXCLUDED.requests), so several nodes never lose an increment.
CREATE TABLE ad_traffic_hourly (
  id               bigserial   PRIMARY KEY,
  placement        text        NOT NULL,
  traffic_date     date        NOT NULL,
  traffic_hour     smallint    NOT NULL CHECK (traffic_hour BETWEEN 0 AND 23),
  requests         bigint      NOT NULL DEFAULT 0 CHECK (requests >= 0),
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system',
  CONSTRAINT unique_traffic_hour UNIQUE (placement, traffic_date, traffic_hour)
);
-- The curve read: the last 7 business days.
CREATE INDEX idx_traffic_date ON ad_traffic_hourly (traffic_date);
CREATE TRIGGER ad_traffic_hourly_touch BEFORE UPDATE ON ad_traffic_hourly
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();
