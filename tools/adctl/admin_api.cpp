#include "tools/adctl/admin_api.hpp"

#include "tools/adctl/cli.hpp"
#include "tools/adctl/http_client.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>

namespace adctl {

using nlohmann::json;

namespace {

std::chrono::milliseconds to_millis(double seconds) {
  return std::chrono::milliseconds(std::max<int64_t>(1, std::llround(seconds * 1000.0)));
}

}  // namespace

admin_api::admin_api(const std::string& url, std::string token, double timeout_seconds)
  : url_(url),
    token_(std::move(token)),
    http_(std::make_unique<http_client>(parse_url(url), to_millis(timeout_seconds))) {
}

admin_api::~admin_api() = default;

http_response admin_api::send(const std::string& method, const std::string& target,
                              const std::string& body) {
  try {
    return http_->request(method, target, token_, body);
  } catch (const connection_error& e) {
    throw failure("cannot reach " + url_ + ": " + e.what());
  }
}

[[noreturn]] void api_error(int status, const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  std::string code, message;
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    code = j["error"].value("code", "");
    message = j["error"].value("message", "");
  }
  if (status == 401)
    throw failure("the node refused the admin token (401 " + (code.empty() ? "UNAUTHORIZED" : code)
                  + ")");
  std::string out = std::to_string(status);
  if (!code.empty())
    out += " " + code;
  if (!message.empty())
    out += ": " + message;
  else if (code.empty())
    out += ": " + body.substr(0, 200);
  throw failure(out);
}

namespace {

json ok_json(const http_response& r) {
  if (r.status < 200 || r.status >= 300)
    api_error(r.status, r.body);
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded())
    throw failure("the node answered " + std::to_string(r.status) + " without JSON");
  return j;
}

}  // namespace

json admin_api::get(const std::string& target) {
  return ok_json(send("GET", target, ""));
}

json admin_api::post(const std::string& target, const std::string& body) {
  return ok_json(send("POST", target, body));
}

std::pair<int, json> admin_api::post_answer(const std::string& target, const std::string& body) {
  auto r = send("POST", target, body);
  return {r.status, ok_json(r)};
}

std::pair<int, std::string> admin_api::probe(const std::string& target) {
  auto r = send("GET", target, "");
  if (r.status == 401)
    api_error(r.status, r.body);
  return {r.status, r.body};
}

std::string encode_component(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace adctl
