-- Foundation schema (seed 000 §5-7, §12). No foreign keys: references are
-- checked by the application. Every table carries the audit columns, set
-- automatically; deletes are soft (activated = 0).

CREATE OR REPLACE FUNCTION adserver_touch_updated_at() RETURNS trigger AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TABLE ad_advertisers (
  id               bigserial PRIMARY KEY,
  advertiser_name  text        NOT NULL,
  business_number  text        NOT NULL,
  email            text        NOT NULL,
  business_type    text        NOT NULL,
  status           text        NOT NULL DEFAULT 'ACTIVE',
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system'
);
-- A business number identifies one active advertiser.
CREATE UNIQUE INDEX ad_advertisers_business_number_active
  ON ad_advertisers (business_number) WHERE activated = 1;

CREATE TABLE ad_balances (
  advertiser_id    bigint      PRIMARY KEY,
  current_balance  bigint      NOT NULL CHECK (current_balance >= 0),
  -- Bumped by every committed change; the ledger writes compare-and-set on it.
  version          bigint      NOT NULL DEFAULT 0,
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system'
);

CREATE TABLE ad_balance_histories (
  id               bigserial PRIMARY KEY,
  advertiser_id    bigint      NOT NULL,
  transaction_type text        NOT NULL,  -- INITIAL | CHARGE | DEDUCT | CLICK
  amount           bigint      NOT NULL CHECK (amount > 0),
  balance_before   bigint      NOT NULL,
  balance_after    bigint      NOT NULL CHECK (balance_after >= 0),
  campaign_id      bigint      NOT NULL DEFAULT 0,
  memo             text        NOT NULL DEFAULT '',
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system'
);
CREATE INDEX ad_balance_histories_advertiser ON ad_balance_histories (advertiser_id, id);

CREATE TABLE ad_products_meta (
  product_id       text        PRIMARY KEY,
  product_name     text        NOT NULL,
  category         text        NOT NULL,
  price            bigint      NOT NULL DEFAULT 0,
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system'
);

CREATE TABLE ad_campaigns (
  id                bigserial PRIMARY KEY,
  advertiser_id     bigint      NOT NULL,
  campaign_name     text        NOT NULL,
  campaign_type     text        NOT NULL DEFAULT 'CPC',
  product_id        text        NOT NULL,
  status            text        NOT NULL DEFAULT 'PENDING',
  start_date        date        NOT NULL,
  end_date          date        NOT NULL,
  daily_budget      bigint      NOT NULL CHECK (daily_budget > 0),
  total_budget      bigint      NOT NULL CHECK (total_budget > 0),
  target_categories jsonb       NOT NULL DEFAULT '[]',
  target_keywords   jsonb       NOT NULL DEFAULT '[]',
  activated         smallint    NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  created_user_id   text        NOT NULL DEFAULT 'system',
  updated_user_id   text        NOT NULL DEFAULT 'system'
);
CREATE INDEX ad_campaigns_advertiser ON ad_campaigns (advertiser_id);

CREATE TABLE ad_placement_bids (
  campaign_id      bigint      NOT NULL,
  placement        text        NOT NULL,  -- HOME | CATEGORY | SEARCH | PRODUCT_DETAIL
  bid_price        bigint      NOT NULL CHECK (bid_price > 0),
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system',
  PRIMARY KEY (campaign_id, placement)
);

-- Spend, written only by the advertiser's ledger.
CREATE TABLE ad_campaign_spend (
  campaign_id      bigint      PRIMARY KEY,
  advertiser_id    bigint      NOT NULL,
  spent_total      bigint      NOT NULL DEFAULT 0,
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system'
);

CREATE TABLE ad_campaign_daily_spend (
  campaign_id      bigint      NOT NULL,
  spend_date       date        NOT NULL,  -- business date (config time_zone)
  spent            bigint      NOT NULL DEFAULT 0,
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system',
  PRIMARY KEY (campaign_id, spend_date)
);

CREATE TABLE experiment_mapping (
  id                    bigserial PRIMARY KEY,
  exp_key               text        NOT NULL,
  exp_var               text        NOT NULL,
  original_product_id   text        NOT NULL,
  experiment_product_id text        NOT NULL,
  start_date            date        NOT NULL,
  end_date              date        NOT NULL,
  activated             smallint    NOT NULL DEFAULT 1,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  created_user_id       text        NOT NULL DEFAULT 'system',
  updated_user_id       text        NOT NULL DEFAULT 'system'
);
CREATE INDEX experiment_mapping_key ON experiment_mapping (exp_key, exp_var);

CREATE TABLE campaign_dashboard_metrics (
  campaign_id      bigint      NOT NULL,
  window_unit      text        NOT NULL,  -- MINUTE | HOUR | DAY
  window_start     timestamptz NOT NULL,
  metric           text        NOT NULL,
  value            bigint      NOT NULL DEFAULT 0,
  activated        smallint    NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_user_id  text        NOT NULL DEFAULT 'system',
  updated_user_id  text        NOT NULL DEFAULT 'system',
  PRIMARY KEY (campaign_id, window_unit, window_start, metric)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ad_advertisers', 'ad_balances', 'ad_balance_histories',
      'ad_products_meta', 'ad_campaigns', 'ad_placement_bids', 'ad_campaign_spend',
      'ad_campaign_daily_spend', 'experiment_mapping', 'campaign_dashboard_metrics'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW '
                   'EXECUTE FUNCTION adserver_touch_updated_at()', t || '_touch', t);
  END LOOP;
END $$;
