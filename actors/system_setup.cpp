#include "actors/system_setup.hpp"

#include "protocol/interfaces.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/typed_actor.hpp>

namespace adserver {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<audit_fields>("audit_fields");
  cfg.add_message_type<deadline>("deadline");
  cfg.add_message_type<dashboard_event>("dashboard_event");
  cfg.add_message_type<alert_rules>("alert_rules");
  cfg.add_message_type<idempotency_ticket>("idempotency_ticket");
  cfg.add_message_type<request_meta>("request_meta");
  cfg.add_message_type<advertiser_spec>("advertiser_spec");
  cfg.add_message_type<advertiser_record>("advertiser_record");
  cfg.add_message_type<balance_change>("balance_change");
  cfg.add_message_type<balance_change_result>("balance_change_result");
  cfg.add_message_type<campaign_spend>("campaign_spend");
  cfg.add_message_type<std::vector<campaign_spend>>("std::vector<campaign_spend>");
  cfg.add_message_type<balance_view>("balance_view");
  cfg.add_message_type<advertiser_money>("advertiser_money");
  cfg.add_message_type<product_record>("product_record");
  cfg.add_message_type<placement_bids>("placement_bids");
  cfg.add_message_type<campaign_record>("campaign_record");
  cfg.add_message_type<budget_view>("budget_view");
  cfg.add_message_type<pg_statement>("pg_statement");
  cfg.add_message_type<std::vector<pg_statement>>("std::vector<pg_statement>");
  cfg.add_message_type<pg_rows>("pg_rows");
  cfg.add_message_type<pg_results>("pg_results");
  cfg.add_message_type<kafka_event>("kafka_event");
  cfg.add_message_type<status_record>("status_record");
  cfg.add_message_type<ledger_actor>("ledger_actor");
  cfg.add_message_type<campaign_actor>("campaign_actor");
  cfg.add_message_type<ad_request>("ad_request");
  cfg.add_message_type<served_ad>("served_ad");
  cfg.add_message_type<served_ads>("served_ads");
  cfg.add_message_type<auction_actor>("auction_actor");
  cfg.add_message_type<click_request>("click_request");
  cfg.add_message_type<click_result>("click_result");
  cfg.add_message_type<std::vector<std::string>>("std::vector<std::string>");
  cfg.add_message_type<std::vector<double>>("std::vector<double>");
  cfg.add_message_type<std::vector<int64_t>>("std::vector<int64_t>");
  cfg.add_message_type<experiment_mapping>("experiment_mapping");
  cfg.add_message_type<experiment_mappings>("experiment_mappings");
  cfg.add_message_type<conversion_item>("conversion_item");
  cfg.add_message_type<std::vector<conversion_item>>("std::vector<conversion_item>");
  cfg.add_message_type<conversion_request>("conversion_request");
  cfg.add_message_type<conversion_line>("conversion_line");
  cfg.add_message_type<conversion_lines>("conversion_lines");
  cfg.add_message_type<token_claims>("token_claims");
  cfg.add_message_type<std::vector<token_claims>>("std::vector<token_claims>");
  cfg.add_message_type<slate>("slate");
  cfg.add_message_type<session_experiment_actor>("session_experiment_actor");
  cfg.add_message_type<ledger_money_view>("ledger_money_view");
  cfg.add_message_type<std::vector<ledger_actor>>("std::vector<ledger_actor>");
  cfg.add_message_type<held_ledgers>("held_ledgers");
  cfg.add_message_type<auction_line>("auction_line");
  cfg.add_message_type<std::vector<auction_line>>("std::vector<auction_line>");
  cfg.add_message_type<auction_view>("auction_view");
  cfg.add_message_type<session_mapping>("session_mapping");
  cfg.add_message_type<session_view>("session_view");
  cfg.add_message_type<integrity_finding>("integrity_finding");
  cfg.add_message_type<std::vector<integrity_finding>>("std::vector<integrity_finding>");
  cfg.add_message_type<integrity_check_result>("integrity_check_result");
  cfg.add_message_type<std::vector<integrity_check_result>>(
    "std::vector<integrity_check_result>");
  cfg.add_message_type<integrity_report>("integrity_report");
  cfg.add_message_type<integrity_actor>("integrity_actor");
  cfg.add_message_type<traffic_curves>("traffic_curves");
  cfg.add_message_type<traffic_actor>("traffic_actor");
  cfg.add_message_type<cluster_member>("cluster_member");
  cfg.add_message_type<std::vector<cluster_member>>("std::vector<cluster_member>");
  cfg.add_message_type<forwarded_request>("forwarded_request");
  cfg.add_message_type<forwarded_reply>("forwarded_reply");
  cfg.add_message_type<node_gateway_actor>("node_gateway_actor");
}

}  // namespace adserver
