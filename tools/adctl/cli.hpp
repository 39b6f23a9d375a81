#pragma once
// adctl's command model: the command table's entry, one parsed invocation,
// and the two ways a command can fail (wrong use: exit 2; the node or the
// operation failed: exit 1). No HTTP or JSON library here.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace adctl {

/// Wrong use of adctl itself (unknown command, bad or missing argument):
/// one line on stderr, exit status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The node is unreachable, refused us, or answered an error: one line on
/// stderr, exit status 1.
struct failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A flag a command takes besides the global ones.
struct flag {
  const char* name;   // "--limit"
  const char* value;  // what it takes ("N"), nullptr for a switch
  const char* help;
};

class admin_api;
struct invocation;

/// Runs a command; returns its exit status (0, or 1 for "found a problem").
using handler_fn = int (*)(invocation&);

/// One row of the command table (main.cpp). A new command is a new row and a
/// handler: parsing, --help and usage errors come from the row.
struct command {
  const char* name;
  const char* args;     // usage of its arguments and flags, e.g. "ID" or "[--run]"
  const char* summary;  // one line for `adctl help`
  handler_fn handler;
  std::vector<flag> flags;  // its own flags
  size_t min_args = 0;      // positional arguments
  size_t max_args = 0;
};

/// What a handler gets: its arguments and flags, the global options, and
/// the node's admin API (connected on first use).
struct invocation {
  invocation();
  invocation(invocation&&) noexcept;
  invocation& operator=(invocation&&) noexcept;
  ~invocation();
  const command* cmd = nullptr;
  std::vector<std::string> args;
  std::map<std::string, std::string> flags;  // given flags: name -> value ("" for a switch)
  bool json = false;                         // --json: the server's JSON instead of tables
  std::string url;
  std::string token;
  double timeout_seconds = 30;               // --timeout: how long one HTTP exchange may take

  bool has(const std::string& name) const { return flags.count(name) > 0; }
  std::string flag_or(const std::string& name, const std::string& fallback) const;
  /// The admin API of --url with --token (usage_error when there is no token).
  admin_api& api();

private:
  std::unique_ptr<admin_api> api_;
};

/// "adctl NAME ARGS" and the command's flags, for --help and usage errors.
std::string usage_of(const command& c);

/// Parses argv (after the program name) against the table: global options
/// (--url, --token, --timeout, --json) anywhere, then the command's own flags
/// and arguments; a command's own flag of the same name as a global option
/// wins after the command's name. "--" ends the options: every word after it
/// is an argument. Sets `help` for --help/-h. Throws usage_error.
invocation parse_command_line(const std::vector<std::string>& argv,
                              const std::vector<command>& table, bool& help);

/// Strict readers for arguments; usage_error naming `what` otherwise.
int64_t positive_integer(const std::string& text, const std::string& what);
double positive_number(const std::string& text, const std::string& what);

}  // namespace adctl
