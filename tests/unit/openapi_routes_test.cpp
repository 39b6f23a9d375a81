// docs/openapi.yaml and the router's table cannot drift apart: every route the
// server serves (net::add_all_routes, what main serves) is documented, and
// every documented operation is served.
#include "net/api_keys.hpp"
#include "net/app_context.hpp"
#include "net/metrics.hpp"
#include "net/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace adserver;

namespace {

using operation = std::pair<std::string, std::string>;  // (METHOD, /path/{param})

const std::string openapi_file = std::string{ADSERVER_SOURCE_DIR} + "/docs/openapi.yaml";

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

size_t indent_of(const std::string& line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ')
    ++n;
  return n;
}

/// The key of a `key:` or `key: value` line (after the indent), with YAML
/// quotes removed; empty when the line is not a mapping key.
std::string key_of(const std::string& line, size_t indent) {
  auto rest = line.substr(indent);
  if (rest.empty() || rest[0] == '#' || rest[0] == '-')
    return {};
  if (rest[0] == '"' || rest[0] == '\'') {
    auto close = rest.find(rest[0], 1);
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return {};
    return rest.substr(1, close - 1);
  }
  auto colon = rest.find(':');
  if (colon == std::string::npos)
    return {};
  // "key:" at the end of the line, or "key: value".
  if (colon + 1 < rest.size() && rest[colon + 1] != ' ')
    return {};
  return rest.substr(0, colon);
}

/// (method, path) of every operation under `paths:`: path keys are the
/// 2-space-indented `/...:` lines, their operations the 4-space-indented
/// HTTP method keys (`parameters:`, `summary:` ... at that level are not).
std::set<operation> documented_operations(std::istream& in) {
  static const std::set<std::string> methods = {"get",     "put",  "post",  "delete",
                                                "options", "head", "patch", "trace"};
  std::set<operation> out;
  bool in_paths = false;
  std::string path;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto indent = indent_of(line);
    if (indent == line.size() || line[indent] == '#')
      continue;  // blank or comment
    if (indent == 0) {
      in_paths = key_of(line, 0) == "paths";
      path.clear();
      continue;
    }
    if (!in_paths)
      continue;
    if (indent == 2) {
      auto key = key_of(line, 2);
      path = !key.empty() && key[0] == '/' ? key : "";
    } else if (indent == 4 && !path.empty()) {
      auto key = key_of(line, 4);
      if (methods.count(key))
        out.emplace(upper(key), path);
    }
  }
  return out;
}

std::set<operation> served_operations() {
  net::router router;
  net::app_context app;  // handlers are never called
  net::add_all_routes(router, app, std::make_shared<net::api_key_registry>(),
                      std::make_shared<net::metrics_registry>());
  std::set<operation> out;
  for (auto& [method, pattern] : router.table())
    out.emplace(method, pattern);
  return out;
}

std::string listing(const std::vector<operation>& ops) {
  std::string s;
  for (auto& [method, path] : ops)
    s += "  " + method + " " + path + "\n";
  return s;
}

}  // namespace

TEST(OpenApiParser, ReadsOperationsUnderPathsOnly) {
  std::istringstream yaml(R"(openapi: 3.0.3
info:
  title: x
  description: >
    get: not an operation
paths:
  /a:
    parameters: [{name: id}]
    get:
      summary: "x"
      responses:
        "200": {description: ok}
    delete: {responses: {"200": {description: ok}}}
  "/b/{id}":
    description: |
      not an operation either
    post:
      requestBody:
        content:
          application/json:
            schema:
              properties:
                get: {type: string}
    x-note: hello
components:
  paths:
    /c:
      get: {}
  /d:
    get: {}
)");
  std::set<operation> expected = {{"GET", "/a"}, {"DELETE", "/a"}, {"POST", "/b/{id}"}};
  EXPECT_EQ(documented_operations(yaml), expected);
}

TEST(OpenApiRoutes, DocumentedOperationsAreExactlyTheServedRoutes) {
  std::ifstream in(openapi_file);
  ASSERT_TRUE(in) << "cannot read " << openapi_file;
  auto documented = documented_operations(in);
  auto served = served_operations();
  ASSERT_FALSE(served.empty());
  ASSERT_FALSE(documented.empty()) << "no operations found under paths: in " << openapi_file;

  std::vector<operation> not_served, not_documented;
  std::set_difference(documented.begin(), documented.end(), served.begin(), served.end(),
                      std::back_inserter(not_served));
  std::set_difference(served.begin(), served.end(), documented.begin(), documented.end(),
                      std::back_inserter(not_documented));
  EXPECT_TRUE(not_served.empty()) << "documented in docs/openapi.yaml but not served "
                                     "(net::add_all_routes):\n"
                                  << listing(not_served);
  EXPECT_TRUE(not_documented.empty()) << "served (net::add_all_routes) but not documented in "
                                         "docs/openapi.yaml:\n"
                                      << listing(not_documented);
}

TEST(OpenApiRoutes, EveryRouteIsAddedOnce) {
  net::router router;
  net::app_context app;
  net::add_all_routes(router, app, std::make_shared<net::api_key_registry>(),
                      std::make_shared<net::metrics_registry>());
  auto table = router.table();
  std::set<operation> unique(table.begin(), table.end());
  EXPECT_EQ(unique.size(), table.size()) << "a (method, pattern) is added twice; the first wins";
}
