// JSON output that a strict reader accepts whatever bytes came in: AppendJsonString
// never emits invalid UTF-8 (it writes every decision and dead-letter reason), and a
// dead letter keeps its message's exact bytes (as base64 when they are not UTF-8).
// nlohmann::json::parse is the strict reader: it rejects ill-formed UTF-8.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine_test_util.h"
#include "exec/engine_impl.h"  // AppendJsonValue (runtime/exec/)

namespace juncture::enginetest {
namespace {

using nlohmann::json;

std::string Quoted(std::string_view s) {
  std::string out;
  runtime::AppendJsonString(s, out);
  return out;
}

// RFC 4648 base64 decoding (padded), written independently of the engine's encoder.
std::string FromBase64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  EXPECT_EQ(text.size() % 4, 0u) << text;
  std::string out;
  for (size_t i = 0; i + 4 <= text.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=') {
        ++pad;
        v <<= 6;
        continue;
      }
      int d = value(c);
      EXPECT_GE(d, 0) << "not base64: " << c;
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out += static_cast<char>((v >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(v & 0xFF);
  }
  return out;
}

// Byte strings a hostile producer sends: every single byte, truncated, overlong and
// surrogate sequences, code points past U+10FFFF, stray continuations, NUL and
// control bytes, JSON metacharacters, mixed with valid text of every length.
std::vector<std::string> HostileStrings() {
  std::vector<std::string> out = {
      "", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",  // valid
      "\xFF", "a\xFF" "b", "\xC3", "\xE2\x82", "\xF0\x9F\x98",         // stray, truncated
      "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xF0\x80\x80\x80",  // overlong
      "\xED\xA0\x80", "\xED\xBF\xBF",                                   // surrogates
      "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80",   // > U+10FFFF
      "\x80", "\xBF\xBF", "\xC3\xA9\xA9",                               // continuations
      std::string("nul\0in", 6), "\x01\x1F\x7F", "\"\\/\b\f\n\r\t",     // control, escapes
      "\xE2\x80\xA8\xE2\x80\xA9",                                       // U+2028, U+2029
      "\xEF\xBB\xBF" "bom", "\xEF\xBF\xBE\xEF\xBF\xBF",                 // noncharacters
  };
  for (int b = 0; b < 256; ++b) out.push_back(std::string(1, static_cast<char>(b)) + "x");
  std::mt19937 rng(99);
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) {
      int kind = static_cast<int>(rng() % 4);
      c = static_cast<char>(kind == 0 ? rng() % 128 : 0x80 + rng() % 128);
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST(JsonText, AppendJsonStringAlwaysParsesStrictly) {
  for (const std::string& s : HostileStrings()) {
    std::string text = Quoted(s);
    json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(parsed.is_discarded()) << "not strict JSON: " << testing::PrintToString(text);
    ASSERT_TRUE(parsed.is_string());
    if (runtime::IsValidUtf8(s)) {
      EXPECT_EQ(parsed.get<std::string>(), s) << "valid UTF-8 must round-trip exactly";
    }
    EXPECT_EQ(std::count_if(text.begin(), text.end(),
                            [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
              0)
        << "a raw control byte in " << testing::PrintToString(text);
  }
}

// Strings with nothing to escape are written in one go, those with something go
// byte by byte: both append after what the output already holds.
TEST(JsonText, AppendJsonStringAppendsAfterWhatIsThere) {
  std::string out = "{";
  runtime::AppendJsonString("", out);
  out += ':';
  runtime::AppendJsonString("plain text, 42 ~!", out);
  out += ',';
  runtime::AppendJsonString("a\"b\\c\nd", out);
  out += ',';
  runtime::AppendJsonString("caf\xC3\xA9", out);
  EXPECT_EQ(out, "{\"\":\"plain text, 42 ~!\",\"a\\\"b\\\\c\\nd\",\"caf\xC3\xA9\"");
  for (int c = 0; c < 256; ++c) {  // each byte alone, after a prefix: as the parser reads it
    std::string one = "x";
    runtime::AppendJsonString(std::string(1, static_cast<char>(c)), one);
    json parsed = json::parse(one.substr(1), nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(parsed.is_string()) << c;
    EXPECT_EQ(one[0], 'x');
    if (c < 0x80) {
      EXPECT_EQ(parsed.get<std::string>(), std::string(1, static_cast<char>(c))) << c;
    }
  }
}

TEST(JsonText, IllFormedSequencesBecomeOneReplacementEach) {
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  auto text = [](std::string_view s) { return json::parse(Quoted(s)).get<std::string>(); };
  EXPECT_EQ(text("a\xFF" "b"), "a" + r + "b");
  EXPECT_EQ(text("\xE2\x82"), r);                  // a truncated sequence: one
  EXPECT_EQ(text("\xF0\x9F\x98" "x"), r + "x");
  EXPECT_EQ(text("\xC0\x80"), r + r);              // overlong: each byte
  EXPECT_EQ(text("\xED\xA0\x80"), r + r + r);      // a surrogate: each byte
  EXPECT_EQ(text("\xF4\x90\x80\x80"), r + r + r + r);
  EXPECT_EQ(text("caf\xC3\xA9\xA9"), "caf\xC3\xA9" + r);
  EXPECT_EQ(Quoted(std::string("\0\x1F", 2)), "\"\\u0000\\u001f\"");
}

TEST(JsonText, IsValidUtf8AgreesWithAStrictParser) {
  for (const std::string& s : HostileStrings()) {
    // The same bytes inside a JSON string, where the parser checks UTF-8 (control
    // bytes and metacharacters are left out: they are not about UTF-8).
    std::string body;
    for (char c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 0x20 && c != '"' && c != '\\') body += c;
    }
    bool strict = !json::parse("\"" + body + "\"", nullptr, false).is_discarded();
    EXPECT_EQ(runtime::IsValidUtf8(body), strict) << testing::PrintToString(body);
  }
}

TEST(JsonText, DeadLettersParseStrictlyAndGiveBackTheExactBytes) {
  size_t as_text = 0, as_base64 = 0;
  for (const std::string& message : HostileStrings()) {
    std::string line = runtime::DeadLetterJson(message, "invalid JSON: \xFF reason");
    json d = json::parse(line, nullptr, false);
    ASSERT_FALSE(d.is_discarded()) << testing::PrintToString(line);
    ASSERT_TRUE(d.is_object());
    EXPECT_EQ(d["reason"], "invalid JSON: \xEF\xBF\xBD reason");
    EXPECT_EQ(line.find('\n'), std::string::npos);
    if (runtime::IsValidUtf8(message)) {
      ++as_text;
      EXPECT_FALSE(d.contains("message_base64"));
      EXPECT_EQ(d["message"], message);
    } else {
      ++as_base64;
      EXPECT_FALSE(d.contains("message"));
      EXPECT_EQ(FromBase64(d["message_base64"].get<std::string>()), message);
    }
  }
  EXPECT_GT(as_text, 100u);
  EXPECT_GT(as_base64, 1000u);
  // Every length modulo 3 pads right.
  for (const char* m : {"\xFF", "\xFF\xFE", "\xFF\xFE\xFD", "\xFF\xFE\xFD\xFC"}) {
    json d = json::parse(runtime::DeadLetterJson(m, "r"));
    EXPECT_EQ(FromBase64(d["message_base64"]), m);
  }
  EXPECT_EQ(json::parse(runtime::DeadLetterJson("\xFF\xFE", "r"))["message_base64"], "//4=");
}

TEST(JsonText, DecisionsWithIllFormedStringsStillParse) {
  Decision d;
  d.id = "m\xFF:j:s1";
  d.customer = "cust\xC3";
  d.journey = "j";
  d.step = "s1";
  d.channel = "email";
  d.template_name = "t\xED\xA0\x80";
  d.params_json = "{\"k\":" + Quoted("v\xF8") + "}";
  d.outcome = runtime::Outcome::kSent;
  d.cause = "m\xFF";
  json parsed = json::parse(d.ToJson(), nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << d.ToJson();
  EXPECT_EQ(parsed["customer"], "cust\xEF\xBF\xBD");
  EXPECT_EQ(parsed["params"]["k"], "v\xEF\xBF\xBD");
}

// A float parameter is written as std::to_chars writes it (the shortest digits that
// read back as the same double), also where the writer takes its short cut for
// values with at most two decimals: every such value below 10,000, their neighbours,
// three-decimal values, values at the cut's edges, and random doubles.
std::string AsParam(double d) {
  JnValue v{};
  v.type = JN_FLOAT;
  v.f = d;
  std::string out;
  runtime::AppendJsonValue(v, out);
  return out;
}

std::string ToChars(double d) {
  if (!std::isfinite(d)) return "null";
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, result.ptr);
}

TEST(JsonText, FloatsAreWrittenAsToCharsWritesThem) {
  size_t mismatches = 0;
  auto check = [&](double d) {
    const std::string got = AsParam(d), want = ToChars(d);
    if (got != want && ++mismatches <= 10) ADD_FAILURE() << got << " != " << want;
  };
  for (long long k = -1'000'000; k <= 1'000'000; ++k) {
    const double d = static_cast<double>(k) / 100.0;
    check(d);
    check(std::nextafter(d, 1e9));
    check(static_cast<double>(k) / 1000.0);
  }
  for (double d : {0.0, -0.0, 9999.99, -9999.99, 9999.995, 10000.0, 100000.0, 1e5, 1e-5, 0.01,
                   0.001, 0.1 * 3, 1.0 / 3, 5e-324, 1e300, -1e-300, 1e15, 123456.78,
                   std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    check(d);
  }
  std::mt19937_64 bits(42);
  for (int i = 0; i < 200'000; ++i) {
    uint64_t b = bits();
    double d;
    std::memcpy(&d, &b, sizeof d);
    check(d);
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(AsParam(29.99), "29.99");
  EXPECT_EQ(AsParam(-0.5), "-0.5");
  EXPECT_EQ(AsParam(0.05), "0.05");
  EXPECT_EQ(AsParam(30.0), "30");
  EXPECT_EQ(AsParam(100000.0), "1e+05");
}

}  // namespace
}  // namespace juncture::enginetest
