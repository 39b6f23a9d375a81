#pragma once
// A small blocking HTTP/1.1 client for tests and tools.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace adserver::testing {

struct http_result {
  int status = 0;  // 0: no response (connection failed)
  std::string body;
  nlohmann::json json;  // parsed body (discarded when not JSON)
  std::string header(const std::string& name) const;
  std::string raw_headers;
};

/// One keep-alive connection to 127.0.0.1:port.
class http_client {
public:
  explicit http_client(int port);
  ~http_client();
  http_result call(const std::string& method, const std::string& target,
                   const std::string& body = "", const std::string& bearer = "",
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// One request on a fresh connection.
http_result http_call(int port, const std::string& method, const std::string& target,
                      const std::string& body = "", const std::string& bearer = "",
                      const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace adserver::testing
