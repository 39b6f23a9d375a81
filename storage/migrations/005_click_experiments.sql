-- The experiment assignment a click was served under (from its signed token),
-- so conversions attributed to it can be analysed per variant.
ALTER TABLE ad_clicks ADD COLUMN exp_key text NOT NULL DEFAULT '';
ALTER TABLE ad_clicks ADD COLUMN exp_var text NOT NULL DEFAULT '';
