// The DOM-free body reader must accept, refuse and read exactly what
// parse_object + read_string/read_int do: compared on bodies chosen for
// each rule (the fuzz target compares them on any bytes).
#include "net/body_fields.hpp"
#include "net/json_codec.hpp"
#include "protocol/errors.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace adserver;
using namespace adserver::net;

namespace {

std::string describe(const caf::error& err) {
  if (!err)
    return "ok";
  auto v = view(err);
  return std::to_string(static_cast<int>(v.code)) + ":" + v.message + ":" + v.details_json;
}

/// Every reading of `body` both ways, as text: parse result, then each field.
std::string read_flat(const std::string& body) {
  body_fields f{"s", "n", "t"};
  auto out = describe(f.parse(body));
  if (out != "ok")
    return out;
  std::string s = "<unset>", t = "<unset>";
  int64_t n = -7;
  out += "|" + describe(f.read_string("s", true, s)) + "=" + s;
  out += "|" + describe(f.read_int("n", false, n)) + "=" + std::to_string(n);
  out += "|" + describe(f.read_string("t", false, t)) + "=" + t;
  return out;
}

std::string read_dom(const std::string& body) {
  nlohmann::json j;
  auto out = describe(parse_object(body, j));
  if (out != "ok")
    return out;
  std::string s = "<unset>", t = "<unset>";
  int64_t n = -7;
  out += "|" + describe(read_string(j, "s", true, s)) + "=" + s;
  out += "|" + describe(read_int(j, "n", false, n)) + "=" + std::to_string(n);
  out += "|" + describe(read_string(j, "t", false, t)) + "=" + t;
  return out;
}

}  // namespace

TEST(BodyFields, ReadsWhatTheParsedObjectReads) {
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  const char* bodies[] = {
    R"({"s":"a","n":3,"t":"b"})",
    R"({"s":"a"})",
    R"({"n":3})",
    R"({"s":null,"n":null,"t":null})",
    R"({"s":1,"n":"3"})",
    R"({"s":"a","n":3.0})",
    R"({"s":"a","n":1e2})",
    R"({"s":"a","n":1e400})",
    R"({"s":"a","n":-1e400})",
    R"({"s":"a","n":1e-400})",
    R"({"s":"a","x":[1.5e999]})",
    R"({"s":"a","n":123456789012345678901234567890})",
    R"({"s":"a","n":-9223372036854775808})",
    R"({"s":"a","n":9223372036854775807})",
    R"({"s":"a","n":9223372036854775808})",
    R"({"s":"a","n":18446744073709551616})",
    R"({"s":"a","n":-0})",
    R"({"s":"a","n":true})",
    R"({"s":["a"],"n":{"n":1}})",
    R"({"s":{"s":"inner"},"t":"x"})",
    R"({"x":{"s":"nested","n":5},"s":"top"})",
    R"({"s":"first","s":"second","n":1,"n":2})",
    R"({"s":"a","s":[1,2]})",
    R"({"s":"a","n":[1],"n":4})",
    R"({"s":"nul\u0000byte"})",
    R"({"\u0073":"escaped key","n":1})",
    R"({"s":"\ud83d\ude00 \u00e9 \"q\" \\ \/"})",
    R"({"s":"\ud83d"})",
    "{\"s\":\"bad utf8 \xff\"}",
    "{\"s\":\"raw\ncontrol\"}",
    R"({"s":"a",})",
    R"({"s":"a"} trailing)",
    R"({"s":"a"}   )",
    R"(  {"s":"a"})",
    R"([{"s":"a"}])",
    R"("s")",
    R"(null)",
    R"(17)",
    "",
    "{",
    R"({"s":"a" /* comment */})",
    R"({"s":"a","n":01})",
    R"({"s":"a","n":-})",
    R"({"s":"a","n":1.})",
    R"({"s":"a","n":.5})",
    R"({"s":"a","n":1e})",
    R"({"s":"a","n":1E+2})",
    R"({"s":"a","n":-0.0e-0})",
    R"({"s":"a","n":+1})",
    R"({"s":"a","n":NaN})",
    R"({"s":"a","t":"x","deep":[[[[{"s":1}]]]]})",
  };
  for (const char* body : bodies)
    EXPECT_EQ(read_flat(body), read_dom(body)) << body;
  EXPECT_EQ(read_flat(deep), read_dom(deep));
  for (std::string with_nul : {std::string("{\"s\":\"a\"}\0garbage", 17), std::string("2\0{", 3),
                               std::string("\0{}", 3), std::string("{\"s\":\0}", 7),
                               std::string("{\"s\":\"a\0\"}", 10)})
    EXPECT_EQ(read_flat(with_nul), read_dom(with_nul)) << with_nul.size();
  for (std::string bom : {"\xEF\xBB\xBF{\"s\":\"a\"}", "\xEF\xBB{}", "\xEF{}", " \xEF\xBB\xBF{}"})
    EXPECT_EQ(read_flat(bom), read_dom(bom)) << bom;
  EXPECT_NE(read_flat(deep).find("nested deeper"), std::string::npos);
}

TEST(BodyFields, KeepsOnlyItsNamesAndForgetsTheLastBody) {
  body_fields f{"a"};
  ASSERT_FALSE(f.parse(R"({"a":"one","b":"two"})"));
  std::string out;
  EXPECT_FALSE(f.read_string("a", true, out));
  EXPECT_EQ(out, "one");
  EXPECT_EQ(f["b"].type, body_field::kind::absent);
  ASSERT_FALSE(f.parse(R"({"b":"two"})"));
  EXPECT_EQ(f["a"].type, body_field::kind::absent);
  auto err = f.read_string("a", true, out);
  ASSERT_TRUE(err);
  // A body that fails (after one that set `a`) leaves nothing behind.
  ASSERT_FALSE(f.parse(R"({"a":"kept?"})"));
  EXPECT_TRUE(f.parse(R"({"a":"partly read",)"));
  EXPECT_EQ(f["a"].type, body_field::kind::absent);
  EXPECT_TRUE(f.parse(std::string(40, '[')));
  EXPECT_EQ(f["a"].type, body_field::kind::absent);
  EXPECT_EQ(view(err).code, ec::validation_failed);
  EXPECT_EQ(view(err).message, "a is required");
}
