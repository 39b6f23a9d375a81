#pragma once
// The message atoms of adserver's actor protocol (at most 10 characters each).
// Interfaces (protocol/interfaces.hpp) combine them into typed messages.
#include <caf/atom.hpp>

namespace adserver {

using get_atom = caf::atom_constant<caf::atom("get")>;
using create_atom = caf::atom_constant<caf::atom("create")>;
using delete_atom = caf::atom_constant<caf::atom("delete")>;
using balance_atom = caf::atom_constant<caf::atom("balance")>;
using budget_atom = caf::atom_constant<caf::atom("budget")>;
using bids_atom = caf::atom_constant<caf::atom("bids")>;
using transition_atom = caf::atom_constant<caf::atom("transition")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using ledger_atom = caf::atom_constant<caf::atom("ledger")>;
using campaign_atom = caf::atom_constant<caf::atom("campaign")>;
using product_atom = caf::atom_constant<caf::atom("product")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using query_atom = caf::atom_constant<caf::atom("query")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using set_atom = caf::atom_constant<caf::atom("set")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using serve_atom = caf::atom_constant<caf::atom("serve")>;
using click_atom = caf::atom_constant<caf::atom("click")>;
using convert_atom = caf::atom_constant<caf::atom("convert")>;
using track_atom = caf::atom_constant<caf::atom("track")>;
using zset_atom = caf::atom_constant<caf::atom("zset")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using experiment_atom = caf::atom_constant<caf::atom("experiment")>;
using money_atom = caf::atom_constant<caf::atom("money")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using impression_atom = caf::atom_constant<caf::atom("impression")>;
using xadd_atom = caf::atom_constant<caf::atom("xadd")>;
using alert_atom = caf::atom_constant<caf::atom("alert")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using check_atom = caf::atom_constant<caf::atom("check")>;
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;
using traffic_atom = caf::atom_constant<caf::atom("traffic")>;
using delivery_atom = caf::atom_constant<caf::atom("delivery")>;
using activate_atom = caf::atom_constant<caf::atom("activate")>;
using forward_atom = caf::atom_constant<caf::atom("forward")>;
using answer_atom = caf::atom_constant<caf::atom("answer")>;
using peer_atom = caf::atom_constant<caf::atom("peer")>;
using keys_atom = caf::atom_constant<caf::atom("keys")>;

}  // namespace adserver
