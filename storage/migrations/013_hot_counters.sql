-- Counters updated in place many times a second: the dashboard windows
-- (every campaign with traffic, every second), balances and spend (every
-- commit). With full pages an update cannot stay on its page, so it adds a
-- new entry to every index of the table (campaign_dashboard_metrics has six)
-- and PostgreSQL spends its time cleaning them up: with 1,000 advertisers
-- clicked that was most of the writer's time. Room on each page keeps these
-- updates HOT (none of the updated columns is indexed). New pages only.
ALTER TABLE campaign_dashboard_metrics SET (fillfactor = 70);
ALTER TABLE campaign_variant_metrics SET (fillfactor = 70);
ALTER TABLE ad_balances SET (fillfactor = 80);
ALTER TABLE ad_campaign_spend SET (fillfactor = 80);
ALTER TABLE ad_campaign_daily_spend SET (fillfactor = 80);
ALTER TABLE ad_campaign_stats SET (fillfactor = 80);
