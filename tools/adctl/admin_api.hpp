#pragma once
// The node's admin API as adctl sees it: JSON in, JSON out, and every way it
// can fail turned into one clear sentence (adctl::failure).
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <utility>

namespace adctl {

class http_client;
struct http_response;

class admin_api {
public:
  /// `timeout_seconds`: how long one HTTP exchange may take (--timeout).
  admin_api(const std::string& url, std::string token, double timeout_seconds);
  ~admin_api();
  /// The JSON body of a 2xx answer; failure otherwise ("the node refused the
  /// admin token (401 UNAUTHORIZED)", "404 NOT_FOUND: ...", "cannot reach ...").
  nlohmann::json get(const std::string& target);
  nlohmann::json post(const std::string& target, const std::string& body = "{}");
  /// POST: the status of a 2xx answer (200 and 202 differ) and its JSON body;
  /// failure otherwise, as post().
  std::pair<int, nlohmann::json> post_answer(const std::string& target,
                                             const std::string& body = "{}");
  /// GET: the status and body whatever the status (e.g. /readyz, whose 503
  /// is an answer, not a failure); failure only for no answer or a 401.
  std::pair<int, std::string> probe(const std::string& target);
  const std::string& url() const { return url_; }

private:
  http_response send(const std::string& method, const std::string& target,
                     const std::string& body);
  std::string url_;
  std::string token_;
  std::unique_ptr<http_client> http_;
};

/// Throws the failure an error answer means: 401 -> "the node refused the
/// admin token (401 UNAUTHORIZED)", otherwise "STATUS CODE: message".
[[noreturn]] void api_error(int status, const std::string& body);

/// Percent-encodes a path segment or query value (UTF-8 bytes kept as %XX).
std::string encode_component(const std::string& s);

}  // namespace adctl
