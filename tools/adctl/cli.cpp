#include "tools/adctl/cli.hpp"

#include "tools/adctl/admin_api.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace adctl {

namespace {

constexpr const char* default_url = "http://127.0.0.1:8080";  // config/adserver.conf

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string{v} : fallback;
}

const flag* find_flag(const command& c, const std::string& name) {
  for (auto& f : c.flags)
    if (name == f.name)
      return &f;
  return nullptr;
}

bool looks_like_flag(const std::string& a) {
  // "-5" is a (bad) argument, not a flag: it is refused by the argument's reader.
  return a.size() >= 2 && a[0] == '-' && !std::isdigit(static_cast<unsigned char>(a[1]));
}

}  // namespace

invocation::invocation() = default;
invocation::invocation(invocation&&) noexcept = default;
invocation& invocation::operator=(invocation&&) noexcept = default;
invocation::~invocation() = default;

std::string invocation::flag_or(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

admin_api& invocation::api() {
  if (!api_) {
    if (token.empty())
      throw usage_error("no admin token: give --token TOKEN or set ADSERVER_TOKEN");
    api_ = std::make_unique<admin_api>(url, token, timeout_seconds);
  }
  return *api_;
}

std::string usage_of(const command& c) {
  std::string out = std::string{"usage: adctl "} + c.name;
  if (*c.args)
    out += std::string{" "} + c.args;
  out += "\n  " + std::string{c.summary} + "\n";
  if (!c.flags.empty()) {
    out += "flags:\n";
    size_t width = 0;
    for (auto& f : c.flags)
      width = std::max(width, std::string{f.name}.size()
                                + (f.value ? std::string{f.value}.size() + 1 : 0));
    for (auto& f : c.flags) {
      std::string head = f.name;
      if (f.value)
        head += std::string{" "} + f.value;
      out += "  " + head + std::string(width - head.size() + 2, ' ') + f.help + "\n";
    }
  }
  // A command's own --timeout (events tail) shadows the HTTP one after its name.
  out += "global: --url URL (or ADSERVER_URL, default " + std::string{default_url}
         + "), --token TOKEN (or ADSERVER_TOKEN), "
         + (find_flag(c, "--timeout") ? "" : "--timeout S (per HTTP request, default 30), ")
         + "--json; -- ends the options\n";
  return out;
}

invocation parse_command_line(const std::vector<std::string>& argv,
                              const std::vector<command>& table, bool& help) {
  invocation inv;
  help = false;
  inv.url = env_or("ADSERVER_URL", default_url);
  inv.token = env_or("ADSERVER_TOKEN", "");
  // One pass: global options anywhere, the first word names the command,
  // the command's own flags after it ("--name value" or "--name=value").
  // After "--" every word is an argument, whatever it starts with.
  bool options_ended = false;
  std::string timeout_text;
  bool timeout_given = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (!options_ended && a == "--") {
      options_ended = true;
      continue;
    }
    if (!options_ended && (a == "--help" || a == "-h")) {
      help = true;
      continue;
    }
    if (options_ended || !looks_like_flag(a)) {
      if (inv.cmd) {
        inv.args.push_back(a);
        continue;
      }
      for (auto& c : table)
        if (a == c.name)
          inv.cmd = &c;
      if (!inv.cmd)
        throw usage_error("unknown command '" + a + "'; see 'adctl help'");
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    auto take_value = [&](const char* what) {
      if (inline_value)
        return value;
      if (i + 1 >= argv.size())
        throw usage_error(name + " needs a value (" + what + ")"
                          + (inv.cmd ? "; see 'adctl " + std::string{inv.cmd->name} + " --help'"
                                     : std::string{}));
      return argv[++i];
    };
    // After the command's name its own flag wins over a global option of the
    // same name (events tail --timeout is how long to follow).
    const flag* own = inv.cmd ? find_flag(*inv.cmd, name) : nullptr;
    if (own) {
      if (own->value)
        inv.flags[name] = take_value(own->value);
      else if (inline_value)
        throw usage_error(name + " takes no value");
      else
        inv.flags[name] = "";
    } else if (name == "--json" && !inline_value) {
      inv.json = true;
    } else if (name == "--url") {
      inv.url = take_value("URL");
    } else if (name == "--token") {
      inv.token = take_value("TOKEN");
    } else if (name == "--timeout") {
      timeout_text = take_value("SECONDS");
      timeout_given = true;
    } else if (!inv.cmd) {
      throw usage_error("unknown option " + name + " before the command; see 'adctl help'");
    } else {
      throw usage_error(std::string{inv.cmd->name} + " has no option " + name + "; see 'adctl "
                        + inv.cmd->name + " --help'");
    }
  }
  if (help)
    return inv;  // adctl --help, or CMD --help: usage, whatever else was given
  if (timeout_given)
    inv.timeout_seconds = positive_number(timeout_text, "--timeout");
  if (!inv.cmd)
    throw usage_error("no command given; see 'adctl help'");
  const command& c = *inv.cmd;
  if (inv.args.size() < c.min_args)
    throw usage_error(std::string{c.name} + " needs " + c.args + "; see 'adctl "
                      + c.name + " --help'");
  if (inv.args.size() > c.max_args)
    throw usage_error(std::string{c.name} + ": unexpected argument '"
                      + inv.args[c.max_args] + "'; see 'adctl " + c.name + " --help'");
  return inv;
}

int64_t positive_integer(const std::string& text, const std::string& what) {
  bool ok = !text.empty() && text.size() <= 18 && text[0] != '0';
  for (char c : text)
    ok = ok && c >= '0' && c <= '9';
  if (!ok)
    throw usage_error(what + " must be a positive integer, not '" + text + "'");
  return std::stoll(text);
}

double positive_number(const std::string& text, const std::string& what) {
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !(x > 0) || x > 86400)
    throw usage_error(what + " must be a number of seconds above 0, not '" + text + "'");
  return x;
}

}  // namespace adctl
