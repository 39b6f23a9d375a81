#include "net/reply_wire.hpp"

#include <ostream>  // boost::string_view, under beast/http/status.hpp, needs it

#include <boost/beast/http/status.hpp>

#include <cctype>
#include <charconv>
#include <cstring>
#include <strings.h>

namespace adserver::net {

namespace {

void field(std::string& out, const std::string& name, const std::string& value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

/// RFC 9110 5.6.2: a field name is a token.
bool is_token(const std::string& s) {
  if (s.empty())
    return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c)))
      return false;
  return true;
}

/// A token name and a value without line breaks, the name not `reserved`.
bool header_allowed(const std::string& name, const std::string& value,
                    std::initializer_list<const char*> reserved) {
  if (!is_token(name) || value.find_first_of("\r\n") != std::string::npos)
    return false;
  for (const char* r : reserved)
    if (strcasecmp(name.c_str(), r) == 0)
      return false;
  return true;
}

}  // namespace

bool append_headers(std::string& out, const http_reply& reply,
                    std::initializer_list<const char*> reserved) {
  auto written = [&](size_t i) {
    return header_allowed(reply.headers[i].first, reply.headers[i].second, reserved);
  };
  auto replaced_later = [&](size_t i) {
    for (size_t k = i + 1; k < reply.headers.size(); ++k)
      if (strcasecmp(reply.headers[k].first.c_str(), reply.headers[i].first.c_str()) == 0
          && written(k))
        return true;
    return false;
  };
  bool has_id = false;
  for (size_t i = 0; i < reply.headers.size(); ++i) {
    if (!written(i) || replaced_later(i))
      continue;
    auto& [name, value] = reply.headers[i];
    field(out, name, value);
    has_id = has_id || strcasecmp(name.c_str(), "X-Request-Id") == 0;
  }
  return has_id;
}

std::string reply_wire(const http_reply& reply, unsigned version, bool keep_alive,
                       const std::string& fallback_request_id) {
  namespace http = boost::beast::http;
  bool no_content = reply.status == 204 || reply.status == 304
                    || (reply.status >= 100 && reply.status < 200);
  std::string out;
  out.reserve(256 + (no_content || reply.head_only ? 0 : reply.body.size()));
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, reply.status).ptr);
  out += ' ';
  auto reason = http::obsolete_reason(static_cast<http::status>(reply.status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: adserver\r\n";
  if (!no_content)  // a peer's forwarded type is checked like any field
    field(out, "Content-Type",
          header_allowed("Content-Type", reply.content_type, {}) ? reply.content_type
                                                                 : "application/octet-stream");
  bool has_id = append_headers(
    out, reply, {"server", "content-type", "content-length", "connection", "transfer-encoding"});
  if (!has_id)
    field(out, "X-Request-Id", fallback_request_id);
  if (version == 10 && keep_alive)
    out += "Connection: keep-alive\r\n";
  else if (version != 10 && !keep_alive)
    out += "Connection: close\r\n";
  if (!no_content) {
    out += "Content-Length: ";
    out.append(digits, std::to_chars(digits, digits + sizeof digits, reply.body.size()).ptr);
    out += "\r\n";
  }
  out += "\r\n";
  if (!no_content && !reply.head_only)
    out += reply.body;
  return out;
}

}  // namespace adserver::net
