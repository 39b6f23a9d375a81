-- Demo data for tools/quickstart (loaded once; safe to load again: rows that
-- exist are left alone): two advertisers with money,
-- four products, three approved campaigns with bids and targeting.
BEGIN;

INSERT INTO ad_advertisers (id, advertiser_name, business_number, email, business_type,
                            created_user_id, updated_user_id) VALUES
  (9001, 'Demo Electronics', '101-01-00001', 'ads@demo-electronics.example', 'RETAIL', 'demo', 'demo'),
  (9002, 'Demo Fashion', '101-01-00002', 'ads@demo-fashion.example', 'RETAIL', 'demo', 'demo')
ON CONFLICT DO NOTHING;
SELECT setval('ad_advertisers_id_seq', greatest(9002, (SELECT max(id) FROM ad_advertisers)));

INSERT INTO ad_balances (advertiser_id, current_balance, version, created_user_id, updated_user_id) VALUES
  (9001, 1000000, 0, 'demo', 'demo'),
  (9002, 500000, 0, 'demo', 'demo')
ON CONFLICT DO NOTHING;
INSERT INTO ad_balance_histories (advertiser_id, transaction_type, amount, balance_before,
                                  balance_after, memo, created_user_id, updated_user_id)
SELECT v.* FROM (VALUES
  (9001::bigint, 'INITIAL', 1000000::bigint, 0::bigint, 1000000::bigint, 'demo data', 'demo', 'demo'),
  (9002::bigint, 'INITIAL', 500000::bigint, 0::bigint, 500000::bigint, 'demo data', 'demo', 'demo')) v
WHERE NOT EXISTS (SELECT 1 FROM ad_balance_histories h
                  WHERE h.advertiser_id = v.column1 AND h.memo = 'demo data');

INSERT INTO ad_products_meta (product_id, product_name, category, price, created_user_id, updated_user_id) VALUES
  ('SAMSUNG_NB_001', 'Galaxy Book 14', '전자제품/컴퓨터/노트북', 1590000, 'demo', 'demo'),
  ('LG_TV_002', 'LG OLED 55', '전자제품/TV', 2190000, 'demo', 'demo'),
  ('APPLE_NB_003', 'MacBook Air 13', '전자제품/컴퓨터/노트북', 1390000, 'demo', 'demo'),
  ('COAT_W_101', 'Wool Coat', '패션/여성/아우터', 259000, 'demo', 'demo')
ON CONFLICT DO NOTHING;

INSERT INTO ad_campaigns (id, advertiser_id, campaign_name, campaign_type, product_id, status,
                          start_date, end_date, daily_budget, total_budget, target_categories,
                          target_keywords, delivery, created_user_id, updated_user_id) VALUES
  -- One paced over the business day (STANDARD: it pauses itself when ahead of
  -- its share of the day), two served whenever eligible (ACCELERATED).
  (9101, 9001, 'Galaxy Book winter', 'CPC', 'SAMSUNG_NB_001', 'ACTIVE', current_date,
   current_date + 90, 50000, 1000000, '["전자제품/컴퓨터"]', '["노트북", "laptop"]', 'STANDARD',
   'demo', 'demo'),
  (9102, 9001, 'OLED TV', 'CPC', 'LG_TV_002', 'ACTIVE', current_date, current_date + 90,
   30000, 500000, '["전자제품/TV"]', '["tv", "올레드"]', 'ACCELERATED', 'demo', 'demo'),
  (9103, 9002, 'Wool coat season', 'CPC', 'COAT_W_101', 'ACTIVE', current_date,
   current_date + 60, 20000, 300000, '["패션/여성"]', '["코트"]', 'ACCELERATED', 'demo', 'demo')
ON CONFLICT DO NOTHING;
SELECT setval('ad_campaigns_id_seq', greatest(9103, (SELECT max(id) FROM ad_campaigns)));

INSERT INTO ad_placement_bids (campaign_id, placement, bid_price, created_user_id, updated_user_id) VALUES
  (9101, 'HOME', 900, 'demo', 'demo'), (9101, 'SEARCH', 1200, 'demo', 'demo'),
  (9101, 'CATEGORY', 1000, 'demo', 'demo'),
  (9102, 'HOME', 800, 'demo', 'demo'), (9102, 'CATEGORY', 1100, 'demo', 'demo'),
  (9103, 'HOME', 500, 'demo', 'demo'), (9103, 'SEARCH', 600, 'demo', 'demo')
ON CONFLICT DO NOTHING;

INSERT INTO ad_campaign_spend (campaign_id, advertiser_id, created_user_id, updated_user_id) VALUES
  (9101, 9001, 'demo', 'demo'), (9102, 9001, 'demo', 'demo'), (9103, 9002, 'demo', 'demo')
ON CONFLICT DO NOTHING;

COMMIT;
