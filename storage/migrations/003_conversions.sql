-- Attribution needs the product codes of a click; conversions are counted
-- once per (order, product).
ALTER TABLE ad_clicks ADD COLUMN product_id text NOT NULL DEFAULT '';
ALTER TABLE ad_clicks ADD COLUMN original_product_id text NOT NULL DEFAULT '';
CREATE INDEX ad_clicks_device_product ON ad_clicks (device_id, original_product_id, clicked_at);

CREATE TABLE ad_conversions (
  id                   bigserial PRIMARY KEY,
  order_id             text        NOT NULL,
  product_id           text        NOT NULL,  -- original code (experiment codes mapped back)
  device_id            text        NOT NULL,
  session_id           text        NOT NULL DEFAULT '',
  conversion_type      text        NOT NULL,
  revenue_amount       bigint      NOT NULL,
  campaign_id          bigint      NOT NULL DEFAULT 0,  -- 0: not attributed
  ad_id                text        NOT NULL DEFAULT '',
  click_id             bigint      NOT NULL DEFAULT 0,
  activated            smallint    NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  created_user_id      text        NOT NULL DEFAULT 'system',
  updated_user_id      text        NOT NULL DEFAULT 'system',
  UNIQUE (order_id, product_id)
);
CREATE TRIGGER ad_conversions_touch BEFORE UPDATE ON ad_conversions
  FOR EACH ROW EXECUTE FUNCTION adserver_touch_updated_at();
