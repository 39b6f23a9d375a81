// The router and JSON codec under hostile input: HEAD and OPTIONS, error
// bodies that stay valid JSON whatever the path, nesting and NUL refused.
#include "actors/validation.hpp"
#include "net/api_keys.hpp"
#include "net/json_codec.hpp"
#include "net/rate_limiter.hpp"
#include "net/router.hpp"
#include "protocol/errors.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace adserver;
using namespace adserver::net;

namespace {

http_reply run(const router& r, const std::string& method, const std::string& path) {
  http_request req;
  req.method = method;
  req.path = path;
  http_reply out;
  r.dispatch(req, [&](http_reply reply) { out = std::move(reply); });
  return out;
}

std::string header(const http_reply& r, const std::string& name) {
  for (auto& [k, v] : r.headers)
    if (k == name)
      return v;
  return {};
}

router sample() {
  router r;
  r.add("GET", "/things/{id}", false, [](route_context&, respond_fn respond) {
    http_reply reply;
    reply.body = R"({"thing":1})";
    respond(reply);
  });
  r.add("DELETE", "/things/{id}", false, [](route_context&, respond_fn respond) {
    respond(http_reply{});
  });
  return r;
}

}  // namespace

TEST(Router, HeadAnswersLikeGetWithoutTheBody) {
  auto r = sample();
  auto head = run(r, "HEAD", "/things/1");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.head_only);
  EXPECT_EQ(head.body, R"({"thing":1})");  // its length goes out, the body does not
  EXPECT_FALSE(run(r, "GET", "/things/1").head_only);
  EXPECT_EQ(run(r, "HEAD", "/nothing").status, 404);
}

TEST(Router, OptionsListsTheMethods) {
  auto r = sample();
  auto options = run(r, "OPTIONS", "/things/1");
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(header(options, "Allow"), "GET, DELETE, HEAD, OPTIONS");
  EXPECT_EQ(run(r, "OPTIONS", "/nothing").status, 404);
  auto wrong = run(r, "POST", "/things/1");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(header(wrong, "Allow"), "GET, DELETE, HEAD, OPTIONS");
}

TEST(Router, ErrorBodiesAreValidJsonForAnyPath) {
  auto r = sample();
  for (std::string path : {std::string("/\xff\xfe/x"), std::string("/a\xc3"), std::string("/\x01\"\\"),
                           "/" + std::string(10000, 'a')}) {
    auto reply = run(r, "GET", path);
    EXPECT_EQ(reply.status, 404);
    auto j = nlohmann::json::parse(reply.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << reply.body;
    EXPECT_EQ(j["error"]["code"], "NOT_FOUND");
    EXPECT_LT(reply.body.size(), 400u);  // the echoed path is capped
  }
}

TEST(JsonCodec, DeepNestingIsRefusedWithoutRecursion) {
  nlohmann::json j;
  std::string deep(100000, '[');
  auto err = parse_object("{\"bids\":" + deep + "}", j);
  ASSERT_TRUE(err);
  EXPECT_EQ(view(err).code, ec::validation_failed);
  std::string fine = R"({"a":{"b":[[1,2],{"c":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}]}})";
  EXPECT_FALSE(parse_object(fine, j));  // brackets inside strings do not count
}

TEST(JsonCodec, NulInAStringFieldIsRefusedNamingTheField) {
  nlohmann::json j;
  ASSERT_FALSE(parse_object(R"({"session_id":"a\u0000b","tags":["x\u0000"]})", j));
  std::string out;
  auto err = read_string(j, "session_id", true, out);
  ASSERT_TRUE(err);
  EXPECT_NE(view(err).details_json.find("session_id"), std::string::npos);
  std::vector<std::string> tags;
  EXPECT_TRUE(read_string_array(j, "tags", tags));
}

TEST(JsonQuote, InvalidUtf8BecomesReplacementCharacters) {
  auto quoted = json_quote(std::string("ok \xe2\x82 \xff end \xed\xa0\x80"));
  auto j = nlohmann::json::parse(quoted, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << quoted;
  EXPECT_EQ(json_quote("노트북"), "\"노트북\"");  // valid text is untouched
}

TEST(RateLimiter, MemoryIsBoundedWhateverTheKeys) {
  rate_limiter limiter{1, 2};
  int retry = 0;
  for (int i = 0; i < 400000; ++i)
    limiter.allow("key-" + std::to_string(i), retry);
  EXPECT_LE(limiter.size(), 16 * rate_limiter::max_keys_per_shard);
  EXPECT_FALSE(limiter.allow(std::string(65, 'k'), retry));  // never stored
}

TEST(ApiKeys, ARefreshNeverDropsANewerKeyNorRevivesARevokedOne) {
  api_key_registry keys;
  auto old_key = new_api_key(), fresh_key = new_api_key();
  ASSERT_TRUE(looks_like_api_key(old_key));
  keys.add(sha256_hex(old_key), {1, 10});
  auto read_at = keys.generation();  // a refresh reads the table now...
  keys.add(sha256_hex(fresh_key), {1, 11});  // ...a key is issued meanwhile...
  keys.revoke(10);                           // ...and one revoked
  // ...and the refresh, whose rows predate both, lands.
  keys.replace({{sha256_hex(old_key), {1, 10}}}, read_at);
  EXPECT_FALSE(keys.find(old_key).has_value());
  ASSERT_TRUE(keys.find(fresh_key).has_value());
  EXPECT_EQ(keys.find(fresh_key)->key_id, 11);
  EXPECT_FALSE(keys.find("ak_" + std::string(48, 'g')).has_value());
  EXPECT_FALSE(keys.find(fresh_key + "0").has_value());
}
