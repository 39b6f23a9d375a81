-- A SEARCH auction loads the campaigns that have its term as a keyword
-- (auction_candidates: target_keywords @> to_jsonb(term)), not every SEARCH
-- campaign of the day: with thousands of campaigns a cold auction read them
-- all and filtered in memory.
CREATE INDEX IF NOT EXISTS ad_campaigns_target_keywords ON ad_campaigns USING gin (target_keywords);
