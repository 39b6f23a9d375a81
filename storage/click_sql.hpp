#pragma once
// SQL shared by the click statements (click_charge in statements.cpp,
// click_charge_merged in click_merge.cpp): from the kept clicks `c`, each
// campaign's spend of the day and in total, added once per statement.
#define ADSERVER_CLICK_SPEND_CTES                                                      \
  " daily AS ("                                                                        \
  "  INSERT INTO ad_campaign_daily_spend (campaign_id, spend_date, spent, created_user_id," \
  "    updated_user_id)"                                                               \
  "  SELECT campaign_id, spend_date, sum(amount), 'click', 'click' FROM c"             \
  "  GROUP BY campaign_id, spend_date"                                                 \
  "  ON CONFLICT (campaign_id, spend_date)"                                            \
  "  DO UPDATE SET spent = ad_campaign_daily_spend.spent + EXCLUDED.spent),"           \
  " total AS ("                                                                        \
  "  UPDATE ad_campaign_spend s SET spent_total = s.spent_total + x.amount"            \
  "  FROM (SELECT campaign_id, sum(amount) AS amount FROM c GROUP BY campaign_id) x"   \
  "  WHERE s.campaign_id = x.campaign_id),"
