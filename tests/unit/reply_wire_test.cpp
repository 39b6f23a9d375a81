// reply_wire writes what Boost.Beast's serializer wrote for the same answer
// (the server used it before): both outputs are read back by Beast's parser
// and compared field by field.
#include "net/reply_wire.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <sstream>

using namespace adserver::net;
namespace http = boost::beast::http;

namespace {

/// What the server's Beast path did with a reply (http_server.cpp before).
std::string beast_wire(const http_reply& reply, unsigned version, bool keep_alive,
                       const std::string& fallback_id) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::server, "adserver");
  if (reply.status != 204)
    res.set(http::field::content_type, reply.content_type);
  bool has_id = false;
  for (auto& [k, v] : reply.headers) {
    res.set(k, v);
    has_id = has_id || k == "X-Request-Id";
  }
  if (!has_id)
    res.set("X-Request-Id", fallback_id);
  res.keep_alive(keep_alive);
  if (reply.status != 204)
    res.body() = reply.body;
  res.prepare_payload();
  std::ostringstream out;
  out << res;
  return out.str();
}

struct reading {
  unsigned version = 0;
  int status = 0;
  std::string reason;
  bool keep_alive = false;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  bool operator==(const reading& o) const {
    return version == o.version && status == o.status && reason == o.reason
           && keep_alive == o.keep_alive && fields == o.fields && body == o.body;
  }
};

reading read_back(const std::string& wire) {
  http::response_parser<http::string_body> p;
  p.eager(true);
  boost::beast::error_code ec;
  p.put(boost::asio::buffer(wire), ec);
  EXPECT_FALSE(ec) << ec.message() << "\n" << wire;
  if (!p.is_done())
    p.put_eof(ec);
  auto res = p.release();
  reading r;
  r.version = res.version();
  r.status = res.result_int();
  r.reason = std::string(res.reason());
  r.keep_alive = res.keep_alive();
  for (auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    r.fields.emplace_back(name, std::string(f.value()));
  }
  std::sort(r.fields.begin(), r.fields.end());
  r.body = res.body();
  return r;
}

http_reply reply_of(int status, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  http_reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

}  // namespace

TEST(ReplyWire, ReadsBackAsBeastsSerializerWroteIt) {
  http_reply text = reply_of(200, "<html></html>");
  text.content_type = "text/html; charset=utf-8";
  const http_reply replies[] = {
    reply_of(200, R"({"ads":[]})", {{"X-Request-Id", "abc"}}),
    reply_of(200, ""),
    reply_of(201, R"({"id":1})", {{"Location", "/admin/v1/advertisers/1"}}),
    reply_of(204, "", {{"X-Request-Id", "gone"}}),
    reply_of(400, R"({"error":{}})"),
    reply_of(429, "{}", {{"Retry-After", "3"}, {"X-Request-Id", "r"}}),
    reply_of(503, "{}", {{"Retry-After", "1"}, {"Retry-After", "5"}}),
    reply_of(405, "{}", {{"Allow", "GET, POST"}, {"WWW-Authenticate", "Bearer"}}),
    reply_of(599, "{}"),
    text,
  };
  for (auto& reply : replies)
    for (unsigned version : {10u, 11u})
      for (bool keep_alive : {true, false}) {
        auto ours = reply_wire(reply, version, keep_alive, "fallback-id");
        auto theirs = beast_wire(reply, version, keep_alive, "fallback-id");
        auto expected = read_back(theirs);
        // Beast 1.74 sent "Content-Length: 0" with a 204, which RFC 9110
        // (8.6) forbids; reply_wire does not.
        if (reply.status == 204)
          expected.fields.erase(std::remove(expected.fields.begin(), expected.fields.end(),
                                            std::pair<std::string, std::string>{"content-length", "0"}),
                                expected.fields.end());
        EXPECT_TRUE(read_back(ours) == expected)
          << "ours:\n" << ours << "\nbeast:\n" << theirs;
      }
}

TEST(ReplyWire, ADuplicateHeaderKeepsTheLastValueAndTheBodyIsExact) {
  auto wire = reply_wire(reply_of(503, "{\"x\":1}", {{"Retry-After", "1"}, {"retry-after", "5"}}),
                         11, true, "id");
  EXPECT_EQ(wire.find("Retry-After: 1"), std::string::npos);
  EXPECT_NE(wire.find("retry-after: 5\r\n"), std::string::npos);
  EXPECT_NE(wire.find("X-Request-Id: id\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(0, 52), "HTTP/1.1 503 Service Unavailable\r\nServer: adserver\r\n");
  EXPECT_EQ(wire.substr(wire.size() - 28), "Content-Length: 7\r\n\r\n{\"x\":1}");
}

TEST(ReplyWire, FramingFieldsAndLineBreaksFromAReplyNeverReachTheWire) {
  // A peer's forwarded headers go out as they are: none may frame the answer.
  auto wire = reply_wire(reply_of(200, "{}", {{"Content-Length", "999"},
                                               {"connection", "keep-alive"},
                                               {"Transfer-Encoding", "chunked"},
                                               {"Server", "other"},
                                               {"X-Evil", "a\r\nSet-Cookie: x=1"},
                                               {"X-Fine", "yes"}}),
                         11, false, "id");
  EXPECT_EQ(wire.find("999"), std::string::npos);
  EXPECT_EQ(wire.find("chunked"), std::string::npos);
  EXPECT_EQ(wire.find("other"), std::string::npos);
  EXPECT_EQ(wire.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(wire.find("keep-alive"), std::string::npos);
  EXPECT_NE(wire.find("X-Fine: yes\r\n"), std::string::npos);
  EXPECT_NE(wire.find("Connection: close\r\n"), std::string::npos);
  auto r = read_back(wire);
  EXPECT_EQ(r.body, "{}");
  EXPECT_FALSE(r.keep_alive);

  // Names must be tokens (no "Content-Length " or "Connection:close,x"); a
  // refused later header does not remove an earlier allowed one.
  auto names = reply_wire(reply_of(200, "{}", {{"Content-Length ", "5"},
                                                {"Connection:close,x", "y"},
                                                {"X-A", "kept"},
                                                {"x-a", "bad\r\nX: y"}}),
                          11, true, "id");
  EXPECT_EQ(names.find("Content-Length: 5"), std::string::npos);
  EXPECT_EQ(names.find("close,x"), std::string::npos);
  EXPECT_NE(names.find("X-A: kept\r\n"), std::string::npos);
  EXPECT_EQ(read_back(names).body, "{}");

  // A content type with a line break (a peer's) is not written as given.
  auto typed = reply_of(200, "{}");
  typed.content_type = "text/plain\r\nSet-Cookie: x=1";
  auto typed_wire = reply_wire(typed, 11, true, "id");
  EXPECT_EQ(typed_wire.find("Set-Cookie"), std::string::npos);
  EXPECT_NE(typed_wire.find("Content-Type: application/octet-stream\r\n"), std::string::npos);
}

TEST(ReplyWire, AnswersWithoutBodyHaveNoLengthOrType) {
  for (int status : {101, 204, 304}) {
    auto wire = reply_wire(reply_of(status, "dropped"), 11, true, "id");
    EXPECT_EQ(wire.find("Content-Length"), std::string::npos) << status;
    EXPECT_EQ(wire.find("Content-Type"), std::string::npos) << status;
    EXPECT_EQ(wire.find("dropped"), std::string::npos) << status;
    EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n") << status;
  }
}

TEST(ReplyWire, AHeadAnswerCarriesTheGetAnswersLengthAndNoBody) {
  auto reply = reply_of(200, R"({"status":"ok"})");
  reply.head_only = true;
  auto wire = reply_wire(reply, 11, true, "id");
  EXPECT_NE(wire.find("Content-Length: 15\r\n"), std::string::npos);
  EXPECT_NE(wire.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n");
  EXPECT_EQ(wire.find("status"), std::string::npos);
}
