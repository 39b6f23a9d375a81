#pragma once
// The handlers of adctl's command table (main.cpp), grouped by file.
#include "tools/adctl/cli.hpp"

namespace adctl {

// inspect_commands.cpp: one node's state, read through /admin/v1/inspect.
int run_status(invocation& inv);
int run_ledger(invocation& inv);
int run_campaign(invocation& inv);
int run_auction(invocation& inv);
int run_session(invocation& inv);
int run_actors(invocation& inv);

// check_commands.cpp: consistency checks; exit 1 when they find something.
int run_reconcile(invocation& inv);
int run_integrity(invocation& inv);

// list_commands.cpp: every advertiser or campaign, page by page.
int run_advertisers(invocation& inv);
int run_campaigns(invocation& inv);

// cluster_commands.cpp: the members, and which node owns an entity.
int run_nodes(invocation& inv);
int run_where(invocation& inv);

// top_command.cpp: the realtime monitor, refreshed.
int run_top(invocation& inv);

// events_command.cpp: follows an event topic in Kafka.
int run_events(invocation& inv);

}  // namespace adctl
