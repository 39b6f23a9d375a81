// adctl: the admin inspection CLI of an adserver node. Commands are rows of
// the table below; a new command is a new row plus its handler.
// Exit status: 0 fine, 1 failed or found a problem, 2 wrong use.
#include "tools/adctl/cli.hpp"
#include "tools/adctl/commands.hpp"

#include <iostream>

namespace adctl {
namespace {

int run_help(invocation& inv);

const std::vector<command>& command_table() {
  static const std::vector<command> table = {
    {"status", "",
     "the node: version, uptime, readiness and key figures; exit 1 when it is not ready",
     run_status, {}, 0, 0},
    {"top", "[--once] [--interval S]",
     "request rates, per-route latency, actors and queues, refreshed until Ctrl-C", run_top,
     {{"--once", nullptr, "print one frame and exit"},
      {"--interval", "S", "seconds between frames (default 1)"}},
     0, 0},
    {"ledger", "ADVERTISER_ID", "an advertiser's ledger: balance, campaigns' budgets and spend",
     run_ledger, {}, 1, 1},
    {"campaign", "CAMPAIGN_ID", "a campaign actor's record and state", run_campaign, {}, 1, 1},
    {"auction", "PLACEMENT [CATEGORY|TERM]",
     "an auction's ranked candidates (a TERM for SEARCH, a CATEGORY path for CATEGORY)",
     run_auction, {}, 1, 2},
    {"session", "SESSION_ID", "a session's experiment codes in memory", run_session, {}, 1, 1},
    {"actors", "", "actor kinds on the node with their counts and mailboxes", run_actors, {}, 0, 0},
    {"nodes", "", "the cluster's members: liveness, reachability, placement, ledger leases",
     run_nodes, {}, 0, 0},
    {"where", "advertiser|campaign|session ID",
     "the node owning an advertiser or campaign (and its ledger lease) or a session",
     run_where, {}, 2, 2},
    {"events", "tail TOPIC [--from-beginning] [--brokers LIST] [--max N] [--timeout S]",
     "print ad-events, conversion-events or campaign-events as JSON lines until Ctrl-C "
     "(Kafka's errors on stderr)",
     run_events,
     {{"--from-beginning", nullptr, "start at the oldest kept event, not at the newest"},
      {"--brokers", "LIST",
       "Kafka bootstrap servers (default: $ADSERVER_BROKERS, else the node's own)"},
      {"--max", "N", "stop after N events"},
      {"--timeout", "S", "stop after S seconds (exit 0); default: follow until Ctrl-C"}},
     1, 2},
    {"reconcile", "[ADVERTISER_ID]",
     "compare balances and spend in memory, PostgreSQL and Redis; exit 1 on a difference",
     run_reconcile, {}, 0, 1},
    {"integrity", "[--run [--wait S]]",
     "the last consistency check report (--run: check now); exit 1 on findings or a check "
     "that could not run",
     run_integrity,
     {{"--run", nullptr, "run the check now instead of showing the last report"},
      {"--wait", "S",
       "with --run: how long to wait for a run that outlasts the request (default 600)"}},
     0, 0},
    {"advertisers", "[--status S] [--limit N]", "every advertiser (all pages)", run_advertisers,
     {{"--status", "S", "ACTIVE or INACTIVE (soft-deleted)"},
      {"--limit", "N", "page size, 1..500 (default 100)"}},
     0, 0},
    {"campaigns", "[--advertiser ID] [--status S] [--limit N]", "every campaign (all pages)",
     run_campaigns,
     {{"--advertiser", "ID", "only this advertiser's campaigns"},
      {"--status", "S", "ACTIVE, PAUSED, PENDING or ENDED"},
      {"--limit", "N", "page size, 1..500 (default 100)"}},
     0, 0},
    {"help", "[COMMAND]", "this list, or one command's usage", run_help, {}, 0, 1},
  };
  return table;
}

void print_overview(std::ostream& out) {
  out << "usage: adctl [--url URL] [--token TOKEN] [--timeout S] [--json] COMMAND [ARGS]\n"
         "  Inspects one adserver node through its admin API.\n"
         "  --url URL      the node (default $ADSERVER_URL, else http://127.0.0.1:8080)\n"
         "  --token TOKEN  an admin token (default $ADSERVER_TOKEN, better: a flag shows in ps)\n"
         "  --timeout S    seconds one HTTP request may take (default 30)\n"
         "  --json         the server's JSON instead of tables\n"
         "  --             ends the options: what follows are arguments\n\n"
         "commands:\n";
  for (auto& c : command_table())
    out << "  " << c.name << (*c.args ? std::string{" "} + c.args : "") << "\n      "
        << c.summary << "\n";
  out << "\n'adctl COMMAND --help' shows a command's usage. Exit status: 0 fine, 1 failed or "
         "found a problem, 2 wrong use.\n";
}

int run_help(invocation& inv) {
  if (inv.args.empty()) {
    print_overview(std::cout);
    return 0;
  }
  for (auto& c : command_table())
    if (inv.args[0] == c.name) {
      std::cout << usage_of(c);
      return 0;
    }
  throw usage_error("unknown command '" + inv.args[0] + "'; see 'adctl help'");
}

}  // namespace
}  // namespace adctl

int main(int argc, char** argv) {
  using namespace adctl;
  std::vector<std::string> words(argv + 1, argv + argc);
  const command* current = nullptr;
  try {
    bool help = false;
    auto inv = parse_command_line(words, command_table(), help);
    current = inv.cmd;
    if (help) {
      if (inv.cmd)
        std::cout << usage_of(*inv.cmd);
      else
        print_overview(std::cout);
      return 0;
    }
    return inv.cmd->handler(inv);
  } catch (const usage_error& e) {
    // One line: what was wrong, and where the usage is.
    std::string message = e.what();
    if (message.find("see 'adctl") == std::string::npos)
      message += current ? "; see 'adctl " + std::string{current->name} + " --help'"
                         : std::string{"; see 'adctl help'"};
    std::cerr << "adctl: " << message << "\n";
    return 2;
  } catch (const failure& e) {
    std::cerr << "adctl: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "adctl: " << e.what() << "\n";
    return 1;
  }
}
