// cube::json::Writer: structure, commas, indentation, string escaping and numbers. Every output is
// also parsed by nlohmann::json, which rejects invalid JSON and invalid UTF-8.
#include "json_writer.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

using cube::json::Writer;

namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  cube::json::append_quoted(out, s);
  return out;
}

const std::string k_fffd = "\xEF\xBF\xBD";

}  // namespace

TEST(JsonWriter, NestingAndCommas) {
  Writer w;
  w.begin_object();
  w.field("a", 1);
  w.key("list");
  w.begin_array();
  w.value(1);
  w.begin_object();
  w.end_object();
  w.begin_array();
  w.end_array();
  w.null();
  w.begin_object();
  w.field("deep", "x");
  w.field("more", true);
  w.end_object();
  w.end_array();
  w.key("empty");
  w.begin_object();
  w.end_object();
  w.field("last", false);
  w.end_object();
  EXPECT_EQ(w.str(), R"({"a":1,"list":[1,{},[],null,{"deep":"x","more":true}],"empty":{},"last":false})");
  EXPECT_TRUE(nlohmann::json::accept(w.str()));
}

TEST(JsonWriter, TopLevelArrayOfObjects) {
  Writer w;
  w.begin_array();
  for (int i = 0; i < 3; ++i) {
    w.begin_object();
    w.field("i", i);
    w.end_object();
  }
  w.end_array();
  EXPECT_EQ(w.str(), R"([{"i":0},{"i":1},{"i":2}])");
}

TEST(JsonWriter, PrettyIndent) {
  Writer w(2);
  w.begin_object();
  w.key("a");
  w.begin_array();
  w.value(1);
  w.value(2);
  w.end_array();
  w.key("b");
  w.begin_object();
  w.end_object();
  w.key("c");
  w.begin_object();
  w.field("d", "e");
  w.end_object();
  w.end_object();
  EXPECT_EQ(w.str(),
            "{\n"
            "  \"a\": [\n"
            "    1,\n"
            "    2\n"
            "  ],\n"
            "  \"b\": {},\n"
            "  \"c\": {\n"
            "    \"d\": \"e\"\n"
            "  }\n"
            "}");
  EXPECT_EQ(nlohmann::json::parse(w.str())["c"]["d"], "e");
}

TEST(JsonWriter, RawValueTakesAPlace) {
  Writer w;
  w.begin_array();
  w.raw(R"({"x":1})");
  w.raw("2");
  w.end_array();
  EXPECT_EQ(w.str(), R"([{"x":1},2])");
}

TEST(JsonWriter, ClearAndTake) {
  Writer w;
  w.begin_array();
  w.value(1);
  w.clear();
  w.begin_object();
  w.field("k", "v");
  w.end_object();
  EXPECT_EQ(w.str(), R"({"k":"v"})");
  EXPECT_EQ(w.take(), R"({"k":"v"})");
}

TEST(JsonWriter, EscapesQuotesBackslashAndControls) {
  EXPECT_EQ(json_quoted("plain"), "\"plain\"");
  EXPECT_EQ(json_quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_quoted("\n\t\r"), R"("\n\t\r")");
  EXPECT_EQ(json_quoted(std::string("\0", 1)), R"("\u0000")");
  EXPECT_EQ(json_quoted("\x01\x08\x0c\x1b\x1f"), R"("\u0001\u0008\u000c\u001b\u001f")");
  EXPECT_EQ(json_quoted("/ and \x7f"), "\"/ and \x7f\"");
}

TEST(JsonWriter, KeepsValidUtf8) {
  std::string s = "é € 😀 \xEF\xBF\xBF";  // 2, 3 and 4 bytes, and U+FFFF
  EXPECT_EQ(json_quoted(s), "\"" + s + "\"");
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(json_quoted("\xff"), "\"" + k_fffd + "\"");
  EXPECT_EQ(json_quoted("a\x80z"), "\"a" + k_fffd + "z\"");                                     // lone continuation
  EXPECT_EQ(json_quoted("\xc0\xaf"), "\"" + k_fffd + k_fffd + "\"");                            // overlong '/'
  EXPECT_EQ(json_quoted("\xe0\x80\xaf"), "\"" + k_fffd + k_fffd + k_fffd + "\"");               // overlong 3-byte
  EXPECT_EQ(json_quoted("\xed\xa0\x80"), "\"" + k_fffd + k_fffd + k_fffd + "\"");               // surrogate
  EXPECT_EQ(json_quoted("\xf4\x90\x80\x80"), "\"" + k_fffd + k_fffd + k_fffd + k_fffd + "\"");  // > U+10FFFF
  EXPECT_EQ(json_quoted("\xe2\x82"), "\"" + k_fffd + k_fffd + "\"");                            // truncated at the end
  EXPECT_EQ(json_quoted("\xe2\x82z"), "\"" + k_fffd + k_fffd + "z\"");                          // truncated mid-text
}

TEST(JsonWriter, EveryByteStringParses) {
  // All single bytes and all byte pairs: whatever goes in, valid JSON and valid UTF-8 come out.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string s{static_cast<char>(a), static_cast<char>(b), 'x'};
      std::string q = json_quoted(s);
      ASSERT_TRUE(nlohmann::json::accept(q)) << a << " " << b;
    }
  }
}

TEST(JsonWriter, Integers) {
  Writer w;
  w.begin_array();
  w.value(0);
  w.value(-1);
  w.value(std::numeric_limits<int64_t>::min());
  w.value(std::numeric_limits<int64_t>::max());
  w.value(std::numeric_limits<uint64_t>::max());
  w.end_array();
  EXPECT_EQ(w.str(), "[0,-1,-9223372036854775808,9223372036854775807,18446744073709551615]");
}

TEST(JsonWriter, DoublesRoundTripAndNonFiniteIsNull) {
  Writer w;
  w.begin_array();
  for (double d : {0.5, 0.1, -2.25, 1e300, 1e-7, 3.0, 1.0 / 3}) w.value(d);
  w.value(std::numeric_limits<double>::quiet_NaN());
  w.value(std::numeric_limits<double>::infinity());
  w.value(-std::numeric_limits<double>::infinity());
  w.end_array();
  auto parsed = nlohmann::json::parse(w.str());
  ASSERT_EQ(parsed.size(), 10u);
  int i = 0;
  for (double d : {0.5, 0.1, -2.25, 1e300, 1e-7, 3.0, 1.0 / 3}) EXPECT_EQ(parsed[i++].get<double>(), d);
  EXPECT_TRUE(parsed[7].is_null());
  EXPECT_TRUE(parsed[8].is_null());
  EXPECT_TRUE(parsed[9].is_null());
  EXPECT_NE(w.str().find(",null,null,null]"), std::string::npos) << w.str();
}

TEST(JsonWriter, KeysAreEscapedToo) {
  Writer w;
  w.begin_object();
  w.field("we\"ird\n\xff", 1);
  w.end_object();
  EXPECT_EQ(w.str(), "{\"we\\\"ird\\n" + k_fffd + "\":1}");
}

TEST(JsonWriter, DrainStreamsPiecesThatJoinIntoTheDocument) {
  Writer w(2), whole(2);
  std::string streamed;
  for (Writer* x : {&w, &whole}) {
    x->begin_object();
    x->key("rows");
    x->begin_array();
  }
  for (int i = 0; i < 5; ++i) {
    for (Writer* x : {&w, &whole}) {
      x->begin_object();
      x->field("i", i);
      x->end_object();
    }
    streamed += w.drain();  // after every element: the commas and indent must still come out right
    EXPECT_EQ(w.str(), "");
  }
  for (Writer* x : {&w, &whole}) {
    x->end_array();
    x->end_object();
  }
  streamed += w.drain();
  EXPECT_EQ(streamed, whole.str());
  EXPECT_EQ(nlohmann::json::parse(streamed)["rows"].size(), 5u);
}
