-- Every click, billed or not. The ledger reads the last hour back when it
-- activates, so a restart never charges a duplicate click.
CREATE TABLE ad_clicks (
  id               bigserial PRIMARY KEY,
  advertiser_id    bigint      NOT NULL,
  campaign_id      bigint      NOT NULL,
  ad_id            text        NOT NULL,
  device_id        text        NOT NULL,
  session_id       text        NOT NULL DEFAULT '',
  request_id       text        NOT NULL DEFAULT '',
  clicked_at       timestamptz NOT NULL,
  charged          boolean     NOT NULL,
  amount           bigint      NOT NULL DEFAULT 0,
  reason           text        NOT NULL DEFAULT '',
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system'
);
CREATE INDEX ad_clicks_advertiser_time ON ad_clicks (advertiser_id, clicked_at);
CREATE INDEX ad_clicks_device_time ON ad_clicks (device_id, clicked_at);
CREATE TRIGGER ad_clicks_touch BEFORE UPDATE ON ad_clicks
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();
