// The input decoder (runtime/exec/decoder.cc), owned records and timestamps.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "juncture/runtime/event.h"
#include "juncture/runtime/partition.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace {

constexpr int64_t kSec = 1'000'000;

FieldSpec Field(std::string name, uint8_t type, uint32_t offset, int presence_bit = -1,
                uint8_t elem = JN_BOOL) {
  FieldSpec f;
  f.name = std::move(name);
  f.type = type;
  f.elem = elem;
  f.offset = offset;
  f.presence_bit = presence_bit;
  return f;
}

JnStr SpecString(ProgramSpec& spec, const std::string& s) {
  spec.strings.push_back(std::make_unique<std::string>(s));
  const std::string& stored = *spec.strings.back();
  return JnStr{stored.data(), static_cast<uint32_t>(stored.size()), -1};
}

// event order {
//   paid: bool  amount: float  count: int  note: string  at: time  wait: duration
//   skus: list<string>?  coupon: string?  qty: int = 1  nums: list<int>?
//   label: string = "none" }
// event ping { }
// event purchase { amount: float  order_id: string }        (conformance c6)
// event page { name: string?  category: string?  path: string? }
// profile {
//   country: string = ""  tier: string = "standard"  email_opt_in: bool = false
//   ltv: float = 0  nickname: string?  visits: int  langs: list<string> = ["en", "fr"]
//   seen: time? }
std::shared_ptr<ProgramSpec> MakeSpec() {
  auto spec = std::make_shared<ProgramSpec>();
  RecordSpec order;
  order.name = "order";
  order.type_id = 0;
  order.fields = {
      Field("paid", JN_BOOL, 56),
      Field("amount", JN_FLOAT, 64),
      Field("count", JN_INT, 72),
      Field("note", JN_STRING, 80),
      Field("at", JN_TIME, 96),
      Field("wait", JN_DURATION, 104),
      Field("skus", JN_LIST, 112, 0, JN_STRING),
      Field("coupon", JN_STRING, 128, 1),
      Field("qty", JN_INT, 144),
      Field("nums", JN_LIST, 152, 2, JN_INT),
      Field("label", JN_STRING, 168),
  };
  order.fields[8].has_default = true;
  order.fields[8].default_value.type = JN_INT;
  order.fields[8].default_value.i = 1;
  order.fields[10].has_default = true;
  order.fields[10].default_value.type = JN_STRING;
  order.fields[10].default_value.s = SpecString(*spec, "none");
  order.size = 184;
  spec->events.push_back(std::move(order));

  RecordSpec ping;
  ping.name = "ping";
  ping.type_id = 1;
  ping.size = JN_EVENT_FIELDS_OFFSET;
  spec->events.push_back(std::move(ping));

  RecordSpec purchase;
  purchase.name = "purchase";
  purchase.type_id = 2;
  purchase.fields = {Field("amount", JN_FLOAT, 56), Field("order_id", JN_STRING, 64)};
  purchase.size = 80;
  spec->events.push_back(std::move(purchase));

  RecordSpec page;  // page calls (docs/wire.md: a page call is read as the event `page`)
  page.name = "page";
  page.type_id = 3;
  page.fields = {Field("name", JN_STRING, 56, 0), Field("category", JN_STRING, 72, 1),
                 Field("path", JN_STRING, 88, 2)};
  page.size = 104;
  spec->events.push_back(std::move(page));

  RecordSpec& p = spec->profile;
  p.name = "profile";
  p.fields = {
      Field("country", JN_STRING, 8),
      Field("tier", JN_STRING, 24),
      Field("email_opt_in", JN_BOOL, 40),
      Field("ltv", JN_FLOAT, 48),
      Field("nickname", JN_STRING, 56, 0),
      Field("visits", JN_INT, 72),
      Field("langs", JN_LIST, 80, -1, JN_STRING),
      Field("seen", JN_TIME, 96, 1),
  };
  p.fields[0].has_default = true;
  p.fields[0].default_value.type = JN_STRING;
  p.fields[0].default_value.s = SpecString(*spec, "");
  p.fields[1].has_default = true;
  p.fields[1].default_value.type = JN_STRING;
  p.fields[1].default_value.s = SpecString(*spec, "standard");
  p.fields[2].has_default = true;
  p.fields[2].default_value.type = JN_BOOL;
  p.fields[3].has_default = true;
  p.fields[3].default_value.type = JN_FLOAT;
  p.fields[6].has_default = true;
  {
    static const JnStr kLangs[2] = {{"en", 2, -1}, {"fr", 2, -1}};
    JnValue& v = p.fields[6].default_value;
    v.type = JN_LIST;
    v.elem = JN_STRING;
    v.l = JnList{kLangs, 2, sizeof(JnStr)};
  }
  p.size = 104;
  return spec;
}

class DecoderTest : public ::testing::Test {
 protected:
  std::shared_ptr<ProgramSpec> spec_ = MakeSpec();

  const FieldSpec& EventField(const std::string& name) const {
    for (const FieldSpec& f : spec_->events[0].fields) {
      if (f.name == name) return f;
    }
    ADD_FAILURE() << "no field " << name;
    return spec_->events[0].fields[0];
  }
  const FieldSpec& ProfileField(const std::string& name) const {
    for (const FieldSpec& f : spec_->profile.fields) {
      if (f.name == name) return f;
    }
    ADD_FAILURE() << "no field " << name;
    return spec_->profile.fields[0];
  }
  int ProfileIndex(const std::string& name) const {
    for (size_t i = 0; i < spec_->profile.fields.size(); ++i) {
      if (spec_->profile.fields[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  // Decodes; on failure records the error.
  bool Decode(const std::string& json, Message& m, std::string& error) const {
    Status status = DecodeMessage(*spec_, json, m);
    error = status.message();
    return status.ok();
  }
  std::string ErrorOf(const std::string& json) const {
    Message m;
    Status status = DecodeMessage(*spec_, json, m);
    if (status.ok()) return "<decoded>";
    // A refused message is always bad input (never a bug's internal error).
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    return status.message();
  }
};

std::string Str(JnStr s) { return std::string(s.data, s.len); }

std::vector<std::string> StringList(JnList l) {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < l.len; ++i) {
    JnStr s;
    std::memcpy(&s, static_cast<const uint8_t*>(l.data) + i * sizeof(JnStr), sizeof s);
    out.push_back(Str(s));
  }
  return out;
}

std::vector<int64_t> IntList(JnList l) {
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < l.len; ++i) {
    int64_t v;
    std::memcpy(&v, static_cast<const uint8_t*>(l.data) + i * 8, 8);
    out.push_back(v);
  }
  return out;
}

// An order track with the given properties JSON.
std::string Order(const std::string& props) {
  return R"({"type":"track","event":"order","messageId":"m-1","userId":"c-42",)"
         R"("timestamp":"2026-11-22T21:57:10.123Z","properties":)" +
         props + "}";
}

const std::string kRequired =
    R"("paid":true,"amount":12.5,"count":3,"note":"hi","at":"2026-11-22T00:00:00Z","wait":90)";

TEST_F(DecoderTest, GoodTrackDecodesEveryField) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(Order(R"({"paid":true,"amount":120.5,"count":-7,"note":"héllo",)"
                           R"("at":"2026-11-22T23:57:10.5+02:00","wait":"1d12h",)"
                           R"("skus":["a","bc",""],"coupon":"X10","qty":4,"nums":[1,2.0,-3],)"
                           R"("label":"L","extra":{"ignored":[1,2]}})"),
                     m, error))
      << error;
  EXPECT_EQ(m.kind, MessageKind::kTrack);
  EXPECT_EQ(m.message_id, "m-1");
  EXPECT_EQ(m.customer, "c-42");
  int64_t t;
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.123Z", t));
  EXPECT_EQ(m.time_us, t);
  EXPECT_EQ(m.event_type, 0u);
  ASSERT_TRUE(m.record);
  EXPECT_EQ(m.record->size(), 184u);

  RecordView r(m.record->data());
  EXPECT_EQ(r.header().type_id, 0u);
  EXPECT_EQ(r.header().flags, 0u);
  EXPECT_EQ(r.header().time_us, t);
  EXPECT_EQ(Str(r.header().id), "m-1");
  EXPECT_EQ(Str(r.header().customer), "c-42");
  EXPECT_EQ(r.header().id.sym, -1);
  EXPECT_EQ(r.header().present, 0b111u);

  EXPECT_TRUE(r.GetBool(56));
  EXPECT_DOUBLE_EQ(r.GetFloat(64), 120.5);
  EXPECT_EQ(r.GetInt(72), -7);
  EXPECT_EQ(r.GetString(80), "héllo");
  EXPECT_EQ(r.GetStr(80).sym, -1);
  int64_t at;
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.500Z", at));
  EXPECT_EQ(r.GetInt(96), at);
  EXPECT_EQ(r.GetInt(104), 36 * 3600 * kSec);

  const Record& rec = *m.record;
  JnValue skus = rec.GetField(EventField("skus"));
  EXPECT_EQ(skus.type, JN_LIST);
  EXPECT_EQ(skus.elem, JN_STRING);
  EXPECT_EQ(skus.l.elem_size, sizeof(JnStr));
  EXPECT_EQ(StringList(skus.l), (std::vector<std::string>{"a", "bc", ""}));
  JnValue coupon = rec.GetField(EventField("coupon"));
  EXPECT_EQ(coupon.type, JN_STRING);
  EXPECT_EQ(Str(coupon.s), "X10");
  EXPECT_EQ(rec.GetField(EventField("qty")).i, 4);
  JnValue nums = rec.GetField(EventField("nums"));
  EXPECT_EQ(nums.l.elem_size, 8u);
  EXPECT_EQ(IntList(nums.l), (std::vector<int64_t>{1, 2, -3}));
  EXPECT_EQ(Str(rec.GetField(EventField("label")).s), "L");

  // The record owns its strings: they are not views into the input.
  JnValue note = rec.GetField(EventField("note"));
  EXPECT_EQ(note.type, JN_STRING);
  EXPECT_EQ(Str(note.s), "héllo");
}

// Of a member or property given twice the first counts, also when it is null (then
// the member is missing): what a lookup by name finds. Properties may come in any
// order, and keys written with escapes are the same keys.
TEST_F(DecoderTest, OfANameGivenTwiceTheFirstCounts) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(R"({"messageId":"m-1","type":"track","userId":"c-1","userId":"c-2",)"
                     R"("event":"order","timestamp":"2026-11-22T21:57:10Z","event":"nope",)"
                     R"("properties":{"wait":90,"note":"first","amount":1.5,"note":"second",)"
                     R"("\u0070aid":true,"count":3,"at":"2026-11-22T00:00:00Z","count":4}})",
                     m, error))
      << error;
  EXPECT_EQ(m.kind, MessageKind::kTrack);
  EXPECT_EQ(m.customer, "c-1");
  const Record& rec = *m.record;
  EXPECT_EQ(Str(rec.GetField(EventField("note")).s), "first");
  EXPECT_EQ(rec.GetField(EventField("count")).i, 3);
  EXPECT_TRUE(rec.GetField(EventField("paid")).b);

  Message null_first;
  EXPECT_FALSE(Decode(R"({"type":"track","messageId":null,"messageId":"m-2","userId":"c-1",)"
                      R"("event":"order","timestamp":"2026-11-22T21:57:10Z"})",
                      null_first, error));
  EXPECT_EQ(error, "missing messageId");
  Message null_property;
  EXPECT_FALSE(Decode(Order(R"({"paid":null,"paid":true,"amount":1.5,"count":3,"note":"n",)"
                            R"("at":"2026-11-22T00:00:00Z","wait":90})"),
                      null_property, error));
  EXPECT_EQ(error, "missing required property 'paid'");
}

// A decoded event holds its id, customer, strings and lists in its one allocation,
// whose arena is just as large as they need (a record lives as long as a window or an
// instance keeps it).
TEST_F(DecoderTest, AnEventsStringsAndListsFillItsArenaExactly) {
  Message m;
  std::string error;
  const std::string note(100, 'n');
  ASSERT_TRUE(Decode(Order(R"({"paid":true,"amount":1.5,"count":3,"note":")" + note +
                           R"(","at":"2026-11-22T00:00:00Z","wait":90,)"
                           R"("skus":["a","a-longer-sku-than-eight-bytes",""],"nums":[1,2,3]})"),
                     m, error))
      << error;
  const Record& rec = *m.record;
  // m-1, c-42, the note, three string views and their bytes, three ints.
  const uint32_t arena = 8 + 8 + 104 + 3 * static_cast<uint32_t>(sizeof(JnStr)) + 8 + 32 + 0 + 24;
  EXPECT_EQ(rec.capacity(), rec.size() + arena);
  const uint8_t* begin = rec.data() + rec.size();
  const uint8_t* end = rec.data() + rec.capacity();
  auto inside = [&](const void* data, size_t len) {
    auto* p = static_cast<const uint8_t*>(data);
    return p >= begin && p + len <= end;
  };
  RecordView r(rec.data());
  EXPECT_TRUE(inside(r.header().id.data, 3));
  EXPECT_TRUE(inside(r.header().customer.data, 4));
  JnValue n = rec.GetField(EventField("note"));
  EXPECT_TRUE(inside(n.s.data, n.s.len));
  JnValue skus = rec.GetField(EventField("skus"));
  ASSERT_EQ(skus.l.len, 3u);
  EXPECT_TRUE(inside(skus.l.data, 3 * sizeof(JnStr)));
  EXPECT_EQ(StringList(skus.l), (std::vector<std::string>{"a", "a-longer-sku-than-eight-bytes", ""}));
  JnStr second;
  std::memcpy(&second, static_cast<const uint8_t*>(skus.l.data) + sizeof(JnStr), sizeof second);
  EXPECT_TRUE(inside(second.data, second.len));
  JnValue nums = rec.GetField(EventField("nums"));
  EXPECT_TRUE(inside(nums.l.data, 24));
}

// An identify's storage record holds its traits' strings and lists in its own
// allocation, sized to them (a name given twice is copied twice; a string trait reset
// by null takes its default's bytes).
TEST_F(DecoderTest, AnIdentifysTraitsFillItsStorageExactly) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(R"({"type":"identify","messageId":"i","userId":"c-42",)"
                     R"("timestamp":"2026-11-22T21:57:10.123Z","traits":{"country":"US",)"
                     R"("tier":null,"nickname":"Bo","langs":["de","fr-longer-than-8"],)"
                     R"("visits":3,"plan":"pro","country":"GB"}})",
                     m, error))
      << error;
  ASSERT_TRUE(m.trait_storage);
  const Record& rec = *m.trait_storage;
  // US, standard, Bo, two string views and their bytes, GB.
  const uint32_t arena = 8 + 8 + 8 + 2 * static_cast<uint32_t>(sizeof(JnStr)) + 8 + 16 + 8;
  EXPECT_EQ(rec.capacity(), rec.size() + arena);
  const uint8_t* begin = rec.data() + rec.size();
  const uint8_t* end = rec.data() + rec.capacity();
  size_t strings = 0;
  for (const auto& [index, value] : m.traits) {
    if (value.type != JN_STRING) continue;
    ++strings;
    auto* p = reinterpret_cast<const uint8_t*>(value.s.data);
    EXPECT_TRUE(p >= begin && p + value.s.len <= end) << spec_->profile.fields[index].name;
  }
  EXPECT_EQ(strings, 4u);  // country twice, tier, nickname
}

TEST_F(DecoderTest, DefaultsAndOptionalFields) {
  Message m;
  std::string error;
  // Absent and null both mean "not given".
  ASSERT_TRUE(Decode(Order("{" + kRequired + R"(,"coupon":null,"qty":null})"), m, error)) << error;
  RecordView r(m.record->data());
  EXPECT_EQ(r.header().present, 0u);
  EXPECT_FALSE(r.IsPresent(JN_EVENT_PRESENT_OFFSET, EventField("skus").presence_bit));
  EXPECT_FALSE(r.IsPresent(JN_EVENT_PRESENT_OFFSET, EventField("coupon").presence_bit));
  // Absent fields are zero bytes.
  EXPECT_EQ(r.GetStr(128).data, nullptr);
  EXPECT_EQ(r.GetList(112).len, 0u);
  EXPECT_EQ(r.GetInt(144), 1);  // qty = 1
  EXPECT_EQ(r.GetString(168), "none");
  EXPECT_NE(r.GetStr(168).data, spec_->strings[0]->data());  // copied, not shared
  EXPECT_EQ(r.GetInt(104), 90 * kSec);
  EXPECT_DOUBLE_EQ(r.GetFloat(64), 12.5);
  // Empty list present.
  ASSERT_TRUE(Decode(Order("{" + kRequired + R"(,"skus":[]})"), m, error)) << error;
  JnValue skus = m.record->GetField(EventField("skus"));
  EXPECT_EQ(skus.l.len, 0u);
  EXPECT_EQ(skus.l.elem_size, sizeof(JnStr));
  EXPECT_TRUE(RecordView(m.record->data()).IsPresent(JN_EVENT_PRESENT_OFFSET, 0));
}

TEST_F(DecoderTest, EventWithoutProperties) {
  Message m;
  std::string error;
  for (const char* props : {"", R"(,"properties":null)", R"(,"properties":{})"}) {
    std::string json = R"({"type":"track","event":"ping","messageId":"p","anonymousId":"a-1",)"
                       R"("timestamp":"2026-01-01T00:00:00Z")" +
                       std::string(props) + "}";
    ASSERT_TRUE(Decode(json, m, error)) << json << ": " << error;
    EXPECT_EQ(m.kind, MessageKind::kTrack);
    EXPECT_EQ(m.event_type, 1u);
    EXPECT_EQ(m.customer, "a-1");
    EXPECT_EQ(RecordView(m.record->data()).header().type_id, 1u);
  }
}

TEST_F(DecoderTest, CustomerFromUserIdElseAnonymousId) {
  Message m;
  std::string error;
  const std::string tail = R"(,"timestamp":"2026-01-01T00:00:00Z"})";
  const std::string head = R"({"type":"track","event":"ping","messageId":"p")";
  ASSERT_TRUE(Decode(head + R"(,"userId":"u","anonymousId":"a")" + tail, m, error));
  EXPECT_EQ(m.customer, "u");
  ASSERT_TRUE(Decode(head + R"(,"userId":"","anonymousId":"a")" + tail, m, error));
  EXPECT_EQ(m.customer, "a");
  ASSERT_TRUE(Decode(head + R"(,"userId":null,"anonymousId":"a")" + tail, m, error));
  EXPECT_EQ(m.customer, "a");
  EXPECT_EQ(ErrorOf(head + R"(,"userId":"","anonymousId":"")" + tail),
            "missing userId and anonymousId");
  EXPECT_EQ(ErrorOf(head + R"(,"userId":true)" + tail), "missing userId and anonymousId");
  EXPECT_EQ(ErrorOf(head + R"(,"userId":4.5)" + tail), "missing userId and anonymousId");
}

TEST_F(DecoderTest, RejectionsHaveExactReasons) {
  const std::string ts = R"("timestamp":"2026-11-22T21:57:10Z")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "invalid JSON: Empty: no JSON found"},
      {R"({"type":"track")", "invalid JSON: The JSON document has an improper structure: missing "
                             "or superfluous commas, braces, missing keys, etc."},
      {"[]", "message must be a JSON object, got array"},
      {"42", "message must be a JSON object, got number"},
      {R"({"messageId":"m","userId":"u",)" + ts + "}", "type must be one of \"track\", \"identify\", \"page\", \"screen\", \"group\", \"alias\""},
      {R"({"type":"video","messageId":"m","userId":"u",)" + ts + "}",
       "type must be one of \"track\", \"identify\", \"page\", \"screen\", \"group\", \"alias\""},
      {R"({"type":7,"messageId":"m","userId":"u",)" + ts + "}",
       "type must be one of \"track\", \"identify\", \"page\", \"screen\", \"group\", \"alias\""},
      {R"({"type":"track","event":"ping","userId":"u",)" + ts + "}", "missing messageId"},
      {R"({"type":"track","event":"ping","messageId":"","userId":"u",)" + ts + "}",
       "messageId must be a non-empty string"},
      {R"({"type":"track","event":"ping","messageId":5,"userId":"u",)" + ts + "}",
       "messageId must be a non-empty string"},
      {R"({"type":"track","event":"ping","messageId":"m",)" + ts + "}",
       "missing userId and anonymousId"},
      {R"({"type":"track","event":"ping","messageId":"m","userId":"u"})", "missing timestamp"},
      {R"({"type":"track","event":"ping","messageId":"m","userId":"u","timestamp":17})",
       "timestamp must be a string, got number"},
      {R"({"type":"track","event":"ping","messageId":"m","userId":"u","timestamp":"yesterday"})",
       "timestamp 'yesterday' is not ISO-8601"},
      {R"({"type":"track","event":"ping","messageId":"m","userId":"u","timestamp":"2026-02-29T00:00:00Z"})",
       "timestamp '2026-02-29T00:00:00Z' is not ISO-8601"},
      {R"({"type":"track","event":"ping","messageId":"m","userId":"u","timestamp":"a\nb"})",
       "timestamp 'a?b' is not ISO-8601"},
      {R"({"type":"track","messageId":"m","userId":"u",)" + ts + "}", "missing event"},
      {R"({"type":"track","event":"","messageId":"m","userId":"u",)" + ts + "}",
       "event must be a non-empty string"},
      {R"({"type":"track","event":["ping"],"messageId":"m","userId":"u",)" + ts + "}",
       "event must be a non-empty string"},
      {R"({"type":"track","event":"ping","messageId":"m","userId":"u",)" + ts +
           R"(,"properties":[]})",
       "properties must be an object, got array"},
      {R"({"type":"identify","messageId":"m","userId":"u",)" + ts + R"(,"traits":"x"})",
       "traits must be an object, got string"},
      // Properties.
      {Order("{}"), "missing required property 'paid'"},
      {Order(R"({"paid":true,"count":1,"note":"","at":"2026-01-01T00:00:00Z","wait":1})"),
       "missing required property 'amount'"},
      {Order(R"({"paid":true,"amount":null,"count":1,"note":"","at":"2026-01-01T00:00:00Z","wait":1})"),
       "missing required property 'amount'"},
      {Order(R"({"paid":"yes"})"), "property 'paid' must be a bool, got string"},
      {Order(R"({"paid":1})"), "property 'paid' must be a bool, got number"},
      {Order(R"({"paid":true,"amount":"lots"})"), "property 'amount' must be a number, got string"},
      {Order(R"({"paid":true,"amount":true})"), "property 'amount' must be a number, got bool"},
      {Order(R"({"paid":true,"amount":[1]})"), "property 'amount' must be a number, got array"},
      {Order(R"({"paid":true,"amount":{}})"), "property 'amount' must be a number, got object"},
      {Order(R"({"paid":true,"amount":1,"count":12.5})"), "property 'count' must be an integer"},
      {Order(R"({"paid":true,"amount":1,"count":"3"})"),
       "property 'count' must be an integer, got string"},
      {Order(R"({"paid":true,"amount":1,"count":9223372036854775808})"),
       "property 'count' is out of range"},
      {Order(R"({"paid":true,"amount":1,"count":1e17})"), "property 'count' is out of range"},
      {Order(R"({"paid":true,"amount":1,"count":1,"note":5})"),
       "property 'note' must be a string, got number"},
      {Order(R"({"paid":true,"amount":1,"count":1,"note":"","at":1700000000})"),
       "property 'at' must be an ISO-8601 timestamp, got number"},
      {Order(R"({"paid":true,"amount":1,"count":1,"note":"","at":"soon"})"),
       "property 'at' must be an ISO-8601 timestamp, got 'soon'"},
      {Order(R"({"paid":true,"amount":1,"count":1,"note":"","at":"2026-01-01T00:00:00Z","wait":"90x"})"),
       "property 'wait' must be a duration (seconds or like \"1d12h\"), got '90x'"},
      {Order(R"({"paid":true,"amount":1,"count":1,"note":"","at":"2026-01-01T00:00:00Z","wait":"90"})"),
       "property 'wait' must be a duration (seconds or like \"1d12h\"), got '90'"},
      {Order(R"({"paid":true,"amount":1,"count":1,"note":"","at":"2026-01-01T00:00:00Z","wait":true})"),
       "property 'wait' must be a duration (seconds or like \"1d12h\"), got bool"},
      {Order(R"({"paid":true,"amount":1,"count":1,"note":"","at":"2026-01-01T00:00:00Z","wait":1e12})"),
       "property 'wait' is out of range"},
      {Order(R"({"paid":true,"amount":1,"count":1,"note":"","at":"2026-01-01T00:00:00Z","wait":"99999999999w"})"),
       "property 'wait' is out of range"},
      {Order("{" + kRequired + R"(,"skus":"a"})"), "property 'skus' must be a list, got string"},
      {Order("{" + kRequired + R"(,"skus":["a","b",3]})"),
       "property 'skus'[2] must be a string, got number"},
      {Order("{" + kRequired + R"(,"skus":["a",null]})"),
       "property 'skus'[1] must be a string, got null"},
      {Order("{" + kRequired + R"(,"nums":[1,2.5]})"), "property 'nums'[1] must be an integer"},
      {Order("{" + kRequired + R"(,"coupon":7})"), "property 'coupon' must be a string, got number"},
      {Order(R"({"paid":true,"amount":1e400})"),
       "invalid JSON: Problem while parsing a number"},
      // Traits.
      {R"({"type":"identify","messageId":"m","userId":"u",)" + ts + R"(,"traits":{"ltv":"rich"}})",
       "trait 'ltv' must be a number, got string"},
      {R"({"type":"identify","messageId":"m","userId":"u",)" + ts + R"(,"traits":{"visits":null}})",
       "trait 'visits' must be an integer, got null"},
      {R"({"type":"identify","messageId":"m","userId":"u",)" + ts + R"(,"traits":{"langs":["en",1]}})",
       "trait 'langs'[1] must be a string, got number"},
      // Size.
      {std::string(size_t{1} << 20, ' ') + "{}", "message is larger than 1 MiB (1048578 bytes)"},
  };
  for (const auto& [json, expected] : cases) {
    EXPECT_EQ(ErrorOf(json), expected) << json.substr(0, 200);
  }
}

// A refused message leaves nothing but whose it was and its id (a trace tells it to
// its customer), and nothing of the message decoded before it.
TEST_F(DecoderTest, FailedDecodeLeavesOnlyTheCustomerTheIdAndTheTime) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(Order("{" + kRequired + "}"), m, error));
  EXPECT_FALSE(Decode(Order(R"({"paid":"no"})"), m, error));
  EXPECT_FALSE(m.record);
  EXPECT_EQ(m.customer, "c-42");
  EXPECT_EQ(m.message_id, "m-1");
  int64_t t = 0;
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.123Z", t));
  EXPECT_EQ(m.time_us, t);
  EXPECT_FALSE(Decode(R"({"type":"track","event":"order"})", m, error));
  EXPECT_TRUE(m.customer.empty());
  EXPECT_TRUE(m.message_id.empty());
  // Refused (a page call with a bad timestamp), it still names its customer.
  EXPECT_FALSE(Decode(R"({"type":"page","messageId":"p-1","userId":"hal","timestamp":"x"})", m, error));
  EXPECT_EQ(error, "timestamp 'x' is not ISO-8601");
  EXPECT_EQ(m.customer, "hal");
  EXPECT_EQ(m.message_id, "p-1");
}

TEST_F(DecoderTest, NumbersConvertByFieldType) {
  Message m;
  std::string error;
  auto decode = [&](const std::string& extra) {
    std::string props = R"({"paid":false,"note":"","at":"2026-01-01T00:00:00Z",)" + extra + "}";
    EXPECT_TRUE(Decode(Order(props), m, error)) << props << ": " << error;
    return RecordView(m.record->data());
  };
  // int: integral doubles within ±2^53.
  EXPECT_EQ(decode(R"("amount":1,"count":12.0,"wait":0)").GetInt(72), 12);
  EXPECT_EQ(decode(R"("amount":1,"count":1e3,"wait":0)").GetInt(72), 1000);
  EXPECT_EQ(decode(R"("amount":1,"count":9007199254740992.0,"wait":0)").GetInt(72),
            int64_t{1} << 53);
  EXPECT_EQ(decode(R"("amount":1,"count":-9223372036854775808,"wait":0)").GetInt(72), INT64_MIN);
  // float: any number.
  EXPECT_DOUBLE_EQ(decode(R"("amount":18446744073709551615,"count":0,"wait":0)").GetFloat(64),
                   18446744073709551615.0);
  EXPECT_DOUBLE_EQ(decode(R"("amount":-3,"count":0,"wait":0)").GetFloat(64), -3.0);
  EXPECT_DOUBLE_EQ(decode(R"("amount":1e308,"count":0,"wait":0)").GetFloat(64), 1e308);
  // duration: seconds (fractional) or a duration string.
  EXPECT_EQ(decode(R"("amount":1,"count":0,"wait":1.5)").GetInt(104), 1'500'000);
  EXPECT_EQ(decode(R"("amount":1,"count":0,"wait":0.0000015)").GetInt(104), 2);
  EXPECT_EQ(decode(R"("amount":1,"count":0,"wait":"90m")").GetInt(104), 90 * 60 * kSec);
  EXPECT_EQ(decode(R"("amount":1,"count":0,"wait":"2w1d1h1m1s")").GetInt(104),
            (15 * 86400 + 3661) * kSec);
  EXPECT_EQ(decode(R"("amount":1,"count":0,"wait":-30)").GetInt(104), -30 * kSec);
}

TEST_F(DecoderTest, UndeclaredEventIsIgnored) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(R"({"type":"track","event":"teleport","messageId":"t","userId":"u",)"
                     R"("timestamp":"2026-10-01T09:04:00Z","properties":{"to":"mars"}})",
                     m, error))
      << error;
  EXPECT_EQ(m.kind, MessageKind::kIgnored);
  EXPECT_EQ(m.ignored_event, "teleport");
  EXPECT_EQ(m.message_id, "t");
  EXPECT_FALSE(m.record);
  // Its properties are not looked at, but the envelope still must be valid.
  EXPECT_TRUE(Decode(R"({"type":"track","event":"teleport","messageId":"t","userId":"u",)"
                     R"("timestamp":"2026-10-01T09:04:00Z","properties":7})",
                     m, error));
  EXPECT_EQ(ErrorOf(R"({"type":"track","event":"teleport","userId":"u",)"
                    R"("timestamp":"2026-10-01T09:04:00Z"})"),
            "missing messageId");
}

// Every field of a decoded message, as text (a record by its presence and size: its
// bytes hold pointers).
std::string Describe(const Message& m) {
  std::string out = std::to_string(static_cast<int>(m.kind)) + "|" + m.message_id + "|" +
                    m.customer + "|" + std::to_string(m.customer_is_anonymous) + "|" +
                    std::to_string(m.time_us) + "|" + std::to_string(m.received_us) + "|" +
                    std::to_string(m.has_received) + "|" + std::to_string(m.timestamp_us) +
                    "|" + std::to_string(m.event_type) + "|" +
                    (m.record ? std::to_string(m.record->size()) : "no record") + "|";
  for (const auto& [field, value] : m.traits) {
    out += std::to_string(field) + ":" + std::to_string(value.type) + ",";
  }
  out += m.trait_storage ? "|storage|" : "|no storage|";
  for (const auto& [name, text] : m.unknown_traits) out += name + "=" + text + ",";
  out += "|" + m.ignored_event + "|" + (m.ignored_call ? m.ignored_call : "-");
  return out;
}

// The engine decodes every message into the same Message (Message::Clear between):
// each comes out exactly as decoded into a fresh one, whatever came before it.
TEST_F(DecoderTest, AClearedMessageIsAFreshOne) {
  const std::string ts = R"("timestamp":"2026-11-22T21:57:10.123Z")";
  const std::vector<std::string> lines = {
      R"({"type":"identify","messageId":"i-1","userId":"c-42",)" + ts +
          R"(,"traits":{"country":"US","visits":3,"plan":"pro","langs":["de"]}})",
      Order("{" + kRequired + R"(,"skus":["a","b"],"coupon":"X"})"),
      R"({"type":"track","event":"ping","messageId":"p","anonymousId":"a-1",)" + ts +
          R"(,"receivedAt":"2026-11-22T21:57:11Z"})",
      R"({"type":"track","event":"teleport","messageId":"t","userId":"u",)" + ts + "}",
      R"({"type":"group","messageId":"g","userId":"u","groupId":"x",)" + ts + "}",
      Order(R"({"amount":"twelve"})"),  // refused
      R"({"type":"track","event":"ping","messageId":"p2","userId":"u2",)" + ts + "}",
      R"({"type":"identify","messageId":"i-2","userId":"c-43",)" + ts + R"(,"traits":{}})",
      "not json",
  };
  Message reused;
  for (int round = 0; round < 2; ++round) {
    for (const std::string& line : lines) {
      SCOPED_TRACE(line);
      Message fresh;
      const bool fresh_ok = DecodeMessage(*spec_, line, fresh).ok();
      EXPECT_EQ(DecodeMessage(*spec_, line, reused).ok(), fresh_ok);
      EXPECT_EQ(Describe(reused), Describe(fresh));
    }
  }
  // What the lines set, so that the comparison above can tell a field left over.
  Message m;
  ASSERT_TRUE(DecodeMessage(*spec_, lines[2], m).ok());
  EXPECT_TRUE(m.has_received);
  EXPECT_TRUE(m.customer_is_anonymous);
  ASSERT_TRUE(DecodeMessage(*spec_, lines[0], m).ok());
  EXPECT_FALSE(m.unknown_traits.empty());
  ASSERT_TRUE(DecodeMessage(*spec_, lines[4], m).ok());
  EXPECT_NE(m.ignored_call, nullptr);
}

// The decoder parses a message in place when the bytes after it up to simdjson's
// padding are in the same page (decoder.cc, PaddingIsReadable), and copies it
// otherwise. Wherever a message ends in its page, even right before a page that cannot
// be read, and whatever follows it, it decodes as it does on its own (and routing,
// which reads it the same way, finds the same customer).
TEST_F(DecoderTest, AMessageDecodesTheSameWhereverItEndsInItsPage) {
  constexpr size_t kSimdjsonPadding = 64;  // simdjson::SIMDJSON_PADDING
  const long page = sysconf(_SC_PAGESIZE);
  ASSERT_GT(page, 0);
  const size_t size = static_cast<size_t>(page);
  void* mapped =
      mmap(nullptr, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  char* first = static_cast<char*>(mapped);
  ASSERT_EQ(mprotect(first + size, size, PROT_NONE), 0);  // reading it would crash
  const std::string ts = R"("timestamp":"2026-11-22T21:57:10.123Z")";
  const std::vector<std::string> lines = {
      Order("{" + kRequired + R"(,"skus":["a","b"],"coupon":"X"})"),
      R"({"type":"identify","messageId":"i-1","userId":"c-42",)" + ts +
          R"(,"traits":{"country":"US","visits":3,"langs":["de"]}})",
      R"({"type":"track","event":"ping","messageId":"p","userId":12345,)" + ts + "}",
      Order(R"({"amount":"twelve"})"),  // refused
      R"({"type":"track","event":"ping","messageId":"p","userId":"u",)" + ts,  // cut short
  };
  // What may follow a message: bytes that would change it if they were read as part
  // of it (a quote, digits, a closing brace, a backslash).
  const std::string after = "\\\"99}]\\\"1e9,\"x\":\"y\"}";
  for (const std::string& line : lines) {
    SCOPED_TRACE(line);
    Message alone;
    const Status alone_status = DecodeMessage(*spec_, line, alone);
    // Ends at the page's last byte, then every position back to well inside the page.
    for (size_t gap = 0; gap <= 2 * kSimdjsonPadding + 8; ++gap) {
      SCOPED_TRACE("bytes after it in its page: " + std::to_string(gap));
      char* at = first + size - gap - line.size();
      std::memset(first, 0, size);
      std::memcpy(at, line.data(), line.size());
      for (size_t i = 0; i < gap; ++i) at[line.size() + i] = after[i % after.size()];
      Message placed;
      const Status placed_status = DecodeMessage(*spec_, std::string_view(at, line.size()), placed);
      EXPECT_EQ(placed_status.ok(), alone_status.ok());
      EXPECT_EQ(placed_status.message(), alone_status.message());
      EXPECT_EQ(Describe(placed), Describe(alone));
      std::string routed_alone, routed_placed;  // routing reads it the same way
      EXPECT_EQ(CustomerOfMessage(std::string_view(at, line.size()), &routed_placed),
                CustomerOfMessage(line, &routed_alone));
      EXPECT_EQ(routed_placed, routed_alone);
    }
  }
  munmap(mapped, 2 * size);
}

TEST_F(DecoderTest, ConformanceDeadLetters) {
  // tests/../conformance/c6_deadletter: six of these go to the dead-letter output.
  const std::vector<std::pair<std::string, bool>> lines = {
      {R"({"type":"track","event":"purchase","messageId":"c6-1","userId":"d1","timestamp":"2026-10-01T09:00:00Z","properties":{"amount":10,"order_id":"o1"}})", true},
      {R"({"type":"track","event":"purchase","messageId":"c6-2","userId":"d1","timestamp":"2026-10-01T09:01:00Z","properties":{"amount":"lots","order_id":"o2"}})", false},
      {R"({"type":"track","event":"purchase","messageId":"c6-3","userId":"d1","timest)", false},
      {R"({"type":"track","event":"purchase","messageId":"c6-4","userId":"d1","timestamp":"2026-10-01T09:03:00Z","properties":{"order_id":"o4"}})", false},
      {R"({"type":"track","event":"teleport","messageId":"c6-5","userId":"d1","timestamp":"2026-10-01T09:04:00Z","properties":{"to":"mars"}})", true},
      {R"({"type":"track","event":"purchase","messageId":"c6-6","timestamp":"2026-10-01T09:05:00Z","properties":{"amount":10,"order_id":"o6"}})", false},
      {R"({"type":"track","event":"purchase","messageId":"c6-7","anonymousId":"anon-7","timestamp":"2026-10-01T09:06:00Z","properties":{"amount":10,"order_id":"o7"}})", true},
      {"[]", false},
      {R"({"type":"track","event":"purchase","messageId":"c6-9","userId":"d1","timestamp":"yesterday","properties":{"amount":10,"order_id":"o9"}})", false},
      {R"({"type":"track","event":"purchase","messageId":"c6-10","userId":"d1","timestamp":"2026-10-01T09:10:00Z","properties":{"amount":1e308,"order_id":"o10"}})", true},
  };
  int dead = 0;
  for (const auto& [json, good] : lines) {
    Message m;
    std::string error;
    bool ok = Decode(json, m, error);
    EXPECT_EQ(ok, good) << json << ": " << error;
    dead += ok ? 0 : 1;
  }
  EXPECT_EQ(dead, 6);
  EXPECT_EQ(ErrorOf(lines[1].first), "property 'amount' must be a number, got string");
  EXPECT_EQ(ErrorOf(lines[3].first), "missing required property 'amount'");
}

TEST_F(DecoderTest, MakeDefaultProfile) {
  auto profile = MakeDefaultProfile(*spec_);
  ASSERT_EQ(profile->size(), 104u);
  RecordView r(profile->data());
  EXPECT_EQ(r.GetString(8), "");
  EXPECT_EQ(r.GetStr(8).sym, -1);
  EXPECT_EQ(r.GetString(24), "standard");
  EXPECT_FALSE(r.GetBool(40));
  EXPECT_EQ(r.GetFloat(48), 0.0);
  EXPECT_FALSE(r.IsPresent(JN_PROFILE_PRESENT_OFFSET, 0));  // nickname
  EXPECT_FALSE(r.IsPresent(JN_PROFILE_PRESENT_OFFSET, 1));  // seen
  EXPECT_EQ(r.GetInt(72), 0);                               // visits: required, no default
  EXPECT_EQ(StringList(profile->GetField(ProfileField("langs")).l),
            (std::vector<std::string>{"en", "fr"}));
  EXPECT_EQ(RecordView(profile->data()).GetList(80).elem_size, sizeof(JnStr));
}

TEST_F(DecoderTest, IdentifyMergesTraitsAndKeepsUnknownOnes) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(R"({"type":"identify","messageId":"m-2","userId":"c-42",)"
                     R"("timestamp":"2026-11-22T21:57:10.123Z","traits":{"country":"US",)"
                     R"("email_opt_in":true,"nickname":"Bo","visits":3,"langs":["de"],)"
                     R"("seen":"2026-11-01T00:00:00Z","ltv":500,)"
                     R"("favourite":{"color":"red","n":[1,2]},"plan":"pro"}})",
                     m, error))
      << error;
  EXPECT_EQ(m.kind, MessageKind::kIdentify);
  EXPECT_EQ(m.customer, "c-42");
  ASSERT_EQ(m.traits.size(), 7u);
  EXPECT_EQ(m.traits[0].first, ProfileIndex("country"));
  EXPECT_EQ(m.traits[0].second.type, JN_STRING);
  EXPECT_EQ(Str(m.traits[0].second.s), "US");
  ASSERT_TRUE(m.trait_storage);
  ASSERT_EQ(m.unknown_traits.size(), 2u);
  EXPECT_EQ(m.unknown_traits[0].first, "favourite");
  EXPECT_EQ(m.unknown_traits[0].second, R"({"color":"red","n":[1,2]})");
  EXPECT_EQ(m.unknown_traits[1].first, "plan");
  EXPECT_EQ(m.unknown_traits[1].second, R"("pro")");

  auto old = MakeDefaultProfile(*spec_);
  auto merged = MergeTraits(*spec_, *old, m);
  RecordView r(merged->data());
  EXPECT_EQ(r.GetString(8), "US");
  EXPECT_EQ(r.GetString(24), "standard");  // kept
  EXPECT_TRUE(r.GetBool(40));
  EXPECT_DOUBLE_EQ(r.GetFloat(48), 500.0);
  EXPECT_TRUE(r.IsPresent(JN_PROFILE_PRESENT_OFFSET, 0));
  EXPECT_EQ(r.GetString(56), "Bo");
  EXPECT_EQ(r.GetInt(72), 3);
  EXPECT_EQ(StringList(merged->GetField(ProfileField("langs")).l), (std::vector<std::string>{"de"}));
  int64_t seen;
  ASSERT_TRUE(ParseTimestamp("2026-11-01T00:00:00Z", seen));
  EXPECT_TRUE(r.IsPresent(JN_PROFILE_PRESENT_OFFSET, 1));
  EXPECT_EQ(r.GetInt(96), seen);

  // The merged profile owns everything: the message may go away.
  m = Message{};
  old.reset();
  EXPECT_EQ(RecordView(merged->data()).GetString(56), "Bo");
  EXPECT_EQ(StringList(merged->GetField(ProfileField("langs")).l), (std::vector<std::string>{"de"}));
}

// A merged profile holds its strings and lists in its one allocation, and only those
// it keeps: the old values the traits replace are not copied first.
TEST_F(DecoderTest, AMergedProfileHoldsExactlyTheStringsAndListsItKeeps) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(R"({"type":"identify","messageId":"m","userId":"c","timestamp":"2026-01-01T00:00:00Z",)"
                     R"("traits":{"tier":"gold-plus-member","langs":["de","it","a-longer-language"]}})",
                     m, error))
      << error;
  auto merged = MergeTraits(*spec_, *MakeDefaultProfile(*spec_), m);
  // tier: 16; langs: three views (48) and their bytes (8 + 8 + 24). Not the old
  // "standard" nor the default ["en", "fr"].
  const uint32_t arena = 16 + 48 + 8 + 8 + 24;
  auto holds_all = [&](const Record& r) {
    const uint8_t* begin = r.data() + r.size();
    const uint8_t* end = r.data() + r.capacity();
    auto inside = [&](const void* p, size_t n) {
      return n == 0 || (static_cast<const uint8_t*>(p) >= begin && static_cast<const uint8_t*>(p) + n <= end);
    };
    JnValue tier = r.GetField(ProfileField("tier"));
    JnValue langs = r.GetField(ProfileField("langs"));
    bool ok = inside(tier.s.data, tier.s.len) && inside(langs.l.data, langs.l.len * sizeof(JnStr));
    for (uint32_t i = 0; i < langs.l.len; ++i) {
      JnStr s;
      std::memcpy(&s, static_cast<const uint8_t*>(langs.l.data) + i * sizeof(JnStr), sizeof s);
      ok = ok && inside(s.data, s.len);
    }
    return ok;
  };
  EXPECT_EQ(merged->capacity(), merged->size() + arena);
  EXPECT_TRUE(holds_all(*merged));
  EXPECT_EQ(Str(merged->GetField(ProfileField("tier")).s), "gold-plus-member");
  EXPECT_EQ(StringList(merged->GetField(ProfileField("langs")).l),
            (std::vector<std::string>{"de", "it", "a-longer-language"}));

  // Merged again without traits: the same bytes, copied.
  Message none;
  ASSERT_TRUE(Decode(R"({"type":"identify","messageId":"n","userId":"c","timestamp":"2026-01-01T00:00:00Z"})",
                     none, error))
      << error;
  auto again = MergeTraits(*spec_, *merged, none);
  EXPECT_EQ(again->capacity(), again->size() + arena);
  EXPECT_TRUE(holds_all(*again));
}

TEST_F(DecoderTest, MergeTraitsKeepsOldFieldsAndNullResets) {
  Message first, second;
  std::string error;
  ASSERT_TRUE(Decode(R"({"type":"identify","messageId":"a","userId":"c","timestamp":"2026-01-01T00:00:00Z",)"
                     R"("traits":{"tier":"gold","nickname":"Bo","visits":9,"langs":["de","it"]}})",
                     first, error))
      << error;
  auto p1 = MergeTraits(*spec_, *MakeDefaultProfile(*spec_), first);
  first = Message{};  // the profile does not depend on the message
  // No traits: a copy.
  ASSERT_TRUE(Decode(R"({"type":"identify","messageId":"b","userId":"c","timestamp":"2026-01-01T00:00:00Z"})",
                     second, error))
      << error;
  EXPECT_TRUE(second.traits.empty());
  auto p2 = MergeTraits(*spec_, *p1, second);
  RecordView r2(p2->data());
  EXPECT_EQ(r2.GetString(24), "gold");
  EXPECT_EQ(r2.GetString(56), "Bo");
  EXPECT_EQ(r2.GetInt(72), 9);
  EXPECT_NE(r2.GetStr(24).data, RecordView(p1->data()).GetStr(24).data);  // re-owned
  EXPECT_EQ(StringList(p2->GetField(ProfileField("langs")).l),
            (std::vector<std::string>{"de", "it"}));
  p1.reset();
  EXPECT_EQ(RecordView(p2->data()).GetString(24), "gold");
  EXPECT_EQ(StringList(p2->GetField(ProfileField("langs")).l),
            (std::vector<std::string>{"de", "it"}));

  // null: default for fields with one, absent for optional ones.
  Message reset;
  ASSERT_TRUE(Decode(R"({"type":"identify","messageId":"c","userId":"c","timestamp":"2026-01-01T00:00:00Z",)"
                     R"("traits":{"tier":null,"nickname":null,"langs":null,"country":"CA"}})",
                     reset, error))
      << error;
  ASSERT_EQ(reset.traits.size(), 4u);
  EXPECT_EQ(reset.traits[1].second.type, kTraitAbsent);
  auto p3 = MergeTraits(*spec_, *p2, reset);
  RecordView r3(p3->data());
  EXPECT_EQ(r3.GetString(24), "standard");
  EXPECT_FALSE(r3.IsPresent(JN_PROFILE_PRESENT_OFFSET, 0));
  EXPECT_EQ(r3.GetStr(56).data, nullptr);
  EXPECT_EQ(r3.GetStr(56).len, 0u);
  EXPECT_EQ(StringList(p3->GetField(ProfileField("langs")).l),
            (std::vector<std::string>{"en", "fr"}));
  EXPECT_EQ(r3.GetString(8), "CA");
  EXPECT_EQ(r3.GetInt(72), 9);

  // A later duplicate wins.
  Message dup;
  ASSERT_TRUE(Decode(R"({"type":"identify","messageId":"d","userId":"c","timestamp":"2026-01-01T00:00:00Z",)"
                     R"("traits":{"tier":"a","tier":"b"}})",
                     dup, error));
  EXPECT_EQ(Str(dup.traits[0].second.s), "a");
  EXPECT_EQ(RecordView(MergeTraits(*spec_, *p3, dup)->data()).GetString(24), "b");
}

TEST(RecordOwnTest, SetFieldCopiesStringsAndLists) {
  FieldSpec s;
  s.type = JN_STRING;
  s.offset = 56;
  s.presence_bit = 3;
  FieldSpec l;
  l.type = JN_LIST;
  l.elem = JN_STRING;
  l.offset = 72;
  FieldSpec b;
  b.type = JN_BOOL;
  b.offset = 88;
  FieldSpec f;
  f.type = JN_FLOAT;
  f.offset = 96;
  FieldSpec outside;  // does not fit: ignored
  outside.type = JN_INT;
  outside.offset = 100;
  RecordRef<Record> owned = Record::Make(104);
  Record& rec = *owned;
  {
    std::string text = "temporary";
    std::string a = "x", c = "yz";
    JnStr elems[2] = {{a.data(), 1, -1}, {c.data(), 2, -1}};
    JnValue v{};
    v.type = JN_STRING;
    v.s = JnStr{text.data(), static_cast<uint32_t>(text.size()), 5};
    rec.SetField(s, v, JN_EVENT_PRESENT_OFFSET);
    JnValue lv{};
    lv.type = JN_LIST;
    lv.elem = JN_STRING;
    lv.l = JnList{elems, 2, sizeof(JnStr)};
    rec.SetField(l, lv, JN_EVENT_PRESENT_OFFSET);
    text.assign(text.size(), '#');
    a = "#";
    c = "##";
  }
  JnValue bv{};
  bv.type = JN_BOOL;
  bv.b = 1;
  rec.SetField(b, bv, JN_EVENT_PRESENT_OFFSET);
  JnValue fv{};
  fv.type = JN_FLOAT;
  fv.f = -0.25;
  rec.SetField(f, fv, JN_EVENT_PRESENT_OFFSET);
  JnValue iv{};
  iv.type = JN_INT;
  iv.i = 77;
  rec.SetField(outside, iv, JN_EVENT_PRESENT_OFFSET);
  EXPECT_EQ(rec.GetField(outside).i, 0);

  JnValue got = rec.GetField(s);
  EXPECT_EQ(got.type, JN_STRING);
  EXPECT_EQ(Str(got.s), "temporary");
  EXPECT_EQ(got.s.sym, -1);
  EXPECT_EQ(RecordView(rec.data()).header().present, uint64_t{1} << 3);
  JnValue gl = rec.GetField(l);
  EXPECT_EQ(gl.type, JN_LIST);
  EXPECT_EQ(gl.elem, JN_STRING);
  EXPECT_EQ(gl.l.elem_size, sizeof(JnStr));
  EXPECT_EQ(StringList(gl.l), (std::vector<std::string>{"x", "yz"}));
  EXPECT_EQ(rec.GetField(b).b, 1);
  EXPECT_EQ(rec.GetField(f).f, -0.25);

  JnStr empty = rec.Own("");
  EXPECT_NE(empty.data, nullptr);
  EXPECT_EQ(empty.len, 0u);
  JnList none = rec.OwnList(nullptr, 0, 8);
  EXPECT_NE(none.data, nullptr);
  EXPECT_EQ(none.len, 0u);
  EXPECT_EQ(none.elem_size, 8u);
}

TEST(TimestampTest, ParsesIso8601) {
  int64_t t = 0;
  ASSERT_TRUE(ParseTimestamp("1970-01-01T00:00:00Z", t));
  EXPECT_EQ(t, 0);
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.123Z", t));
  EXPECT_EQ(t, 1795384630123000);
  ASSERT_TRUE(ParseTimestamp("2026-11-22T23:57:10.123+02:00", t));
  EXPECT_EQ(t, 1795384630123000);
  ASSERT_TRUE(ParseTimestamp("2026-11-22T16:27:10.123-05:30", t));
  EXPECT_EQ(t, 1795384630123000);
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.123-00:00", t));
  EXPECT_EQ(t, 1795384630123000);
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.1Z", t));
  EXPECT_EQ(t, 1795384630100000);
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.123456Z", t));
  EXPECT_EQ(t, 1795384630123456);
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.123456789Z", t));  // truncated to µs
  EXPECT_EQ(t, 1795384630123456);
  ASSERT_TRUE(ParseTimestamp("1969-12-31T23:59:59.5Z", t));
  EXPECT_EQ(t, -500000);
  ASSERT_TRUE(ParseTimestamp("2024-02-29T12:00:00Z", t));  // leap day
  ASSERT_TRUE(ParseTimestamp("2000-02-29T00:00:00Z", t));  // divisible by 400
  EXPECT_EQ(t, 951782400 * kSec);
  ASSERT_TRUE(ParseTimestamp("2026-12-31T23:59:59Z", t));
  ASSERT_TRUE(ParseTimestamp("0000-01-01T00:00:00Z", t));
  ASSERT_TRUE(ParseTimestamp("9999-12-31T23:59:59.999999Z", t));
  ASSERT_TRUE(ParseTimestamp("2026-01-01T00:00:00+23:59", t));

  for (const char* bad : {
           "", "yesterday", "2026-11-22", "2026-11-22T21:57:10", "2026-11-22T21:57Z",
           "2026-11-22 21:57:10Z", "2026-11-22t21:57:10Z", "2026-11-22T21:57:10z",
           "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-00T00:00:00Z",
           "2026-11-31T00:00:00Z", "2026-04-31T00:00:00Z", "2026-02-29T00:00:00Z",
           "1900-02-29T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T23:60:00Z",
           "2026-11-22T23:59:60Z", "2026-11-22T21:57:10.Z", "2026-11-22T21:57:10.1234567890Z",
           "2026-11-22T21:57:10+2:00", "2026-11-22T21:57:10+0200", "2026-11-22T21:57:10+24:00",
           "2026-11-22T21:57:10+02:60", "2026-11-22T21:57:10+02:00Z", "2026-11-22T21:57:10ZZ",
           "2026-11-22T21:57:10Z ", " 2026-11-22T21:57:10Z", "+2026-11-22T21:57:10Z",
           "20261-11-22T21:57:10Z", "2026-1-22T21:57:10Z", "2026-11-22T21:57:1aZ",
           "2026-11-22T21:57:10+", "2026-11-22T21:57:10-05", "２026-11-22T21:57:10Z"}) {
    int64_t untouched = 42;
    EXPECT_FALSE(ParseTimestamp(bad, untouched)) << bad;
  }
}

// The date and hour of the timestamp parsed last are compared, not parsed again: the
// rest of a timestamp of the same hour is still checked whole, and runs of
// timestamps within one hour (as a stream sends them) read as the calendar says.
TEST(TimestampTest, TimestampsOfTheHourParsedLastAreCheckedAndReadWhole) {
  int64_t t = 0;
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10Z", t));
  for (const char* bad : {"2026-11-22T21:60:00Z", "2026-11-22T21:59:60Z", "2026-11-22T21:57:10",
                          "2026-11-22T21:57:10.Z", "2026-11-22T21:57:10+24:00", "2026-11-22T21x57:10Z",
                          "2026-11-22T21:57x10Z", "2026-11-22T21:5a:10Z", "2026-11-22T21:57:10ZZ"}) {
    int64_t untouched = 42;
    EXPECT_FALSE(ParseTimestamp(bad, untouched)) << bad;
    EXPECT_EQ(untouched, 42) << bad;
  }
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:00:00Z", t));
  EXPECT_EQ(t, 1795384630123000 - (57 * 60 + 10) * kSec - 123000);
  ASSERT_TRUE(ParseTimestamp("2026-11-22T21:57:10.123+02:00", t));
  EXPECT_EQ(t, 1795384630123000 - 2 * 3600 * kSec);

  namespace chr = std::chrono;
  std::mt19937_64 random(11);
  const int64_t first = -62135596800LL * 1000000;  // 0001-01-01T00:00:00Z
  const int64_t last = 253402300799999999LL;        // 9999-12-31T23:59:59.999999Z
  for (int run = 0; run < 2000; ++run) {
    const int64_t hour_us = int64_t{3600} * 1000000;
    const int64_t start = first + static_cast<int64_t>(random() % static_cast<uint64_t>(last - first - 2 * hour_us));
    const int64_t hour = start - ((start - first) % hour_us);
    for (int i = 0; i < 10; ++i) {  // ten times of that hour and the next, in no order
      const int64_t us = hour + static_cast<int64_t>(random() % static_cast<uint64_t>(2 * hour_us));
      const int64_t s = (us - first) / 1000000 * 1000000 + first;  // floor to the second
      const chr::sys_time<chr::seconds> at{chr::seconds{s / 1000000}};
      const chr::sys_days day = chr::floor<chr::days>(at);
      const chr::year_month_day ymd{day};
      const chr::hh_mm_ss<chr::seconds> hms{at - day};
      char text[64];
      std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                    static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                    static_cast<int>(hms.seconds().count()), static_cast<long long>(us - s));
      int64_t parsed = 0;
      ASSERT_TRUE(ParseTimestamp(text, parsed)) << text;
      ASSERT_EQ(parsed, us) << text;
    }
  }
}

// The digits are written by hand (no printf): checked against the C++ calendar over
// years 1 to 9999, and past the ends (printf's form then), appended after text.
TEST(TimestampTest, FormatsEveryDateOfYears1To9999AsTheCalendarDoes) {
  namespace chr = std::chrono;
  std::mt19937_64 random(5);
  const int64_t first = -62135596800LL * 1000000;    // 0001-01-01T00:00:00Z
  const int64_t last = 253402300799999999LL;          // 9999-12-31T23:59:59.999999Z
  for (int i = 0; i < 20000; ++i) {
    const int64_t us = first + static_cast<int64_t>(random() % static_cast<uint64_t>(last - first));
    const int64_t ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    const chr::sys_time<chr::milliseconds> t{chr::milliseconds{ms}};
    const chr::sys_days day = chr::floor<chr::days>(t);
    const chr::year_month_day ymd{day};
    const chr::hh_mm_ss<chr::milliseconds> hms{t - day};
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
    ASSERT_EQ(FormatTimestamp(us), want) << us;
    std::string appended = "at ";
    AppendTimestamp(us, appended);
    ASSERT_EQ(appended, std::string("at ") + want);
  }
  EXPECT_EQ(FormatTimestamp(last + 1), "10000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(first - 1000), "0000-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(-62167219200LL * 1000000 - 1000), "-001-12-31T23:59:59.999Z");
}

// The last millisecond's text is kept for the next call: every call must still give
// its own time, whether it repeats the last one, moves by a microsecond within the
// millisecond, or goes back and forth.
TEST(TimestampTest, RepeatedAndAlternatingTimesEachGiveTheirOwnText) {
  const int64_t a = 1795000000123456;  // 2026-11-18T11:06:40.123456Z
  const std::vector<std::pair<int64_t, std::string>> calls = {
      {a, "2026-11-18T11:06:40.123Z"},          {a, "2026-11-18T11:06:40.123Z"},
      {a + 1, "2026-11-18T11:06:40.123Z"},      {a + 544, "2026-11-18T11:06:40.124Z"},
      {a, "2026-11-18T11:06:40.123Z"},          {-1, "1969-12-31T23:59:59.999Z"},
      {-1000, "1969-12-31T23:59:59.999Z"},      {-1001, "1969-12-31T23:59:59.998Z"},
      {a - 86400000000, "2026-11-17T11:06:40.123Z"}, {a, "2026-11-18T11:06:40.123Z"}};
  for (const auto& [us, want] : calls) {
    std::string out = "[";
    AppendTimestamp(us, out);
    EXPECT_EQ(out, "[" + want) << us;
  }
}

TEST(TimestampTest, FormatsUtcMilliseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(1795384630123456), "2026-11-22T21:57:10.123Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(951782400 * kSec), "2000-02-29T00:00:00.000Z");
  // Extremes do not crash.
  EXPECT_FALSE(FormatTimestamp(INT64_MIN).empty());
  EXPECT_FALSE(FormatTimestamp(INT64_MAX).empty());

  for (const char* text : {"2026-11-22T21:57:10.123Z", "2024-02-29T23:59:59.999Z",
                           "1999-12-31T00:00:00.000Z", "0001-01-01T00:00:00.001Z",
                           "9999-12-31T23:59:59.999Z", "1960-06-15T12:30:45.678Z"}) {
    int64_t t;
    ASSERT_TRUE(ParseTimestamp(text, t)) << text;
    EXPECT_EQ(FormatTimestamp(t), text);
  }
  // Every day over several leap cycles survives the round trip.
  for (int64_t day = -800; day < 800 * 40; day += 7) {
    int64_t t = day * 86400 * kSec + 3723004000;  // 01:02:03.004
    int64_t back;
    std::string text = FormatTimestamp(t);
    ASSERT_TRUE(ParseTimestamp(text, back)) << text;
    EXPECT_EQ(back, t) << text;
  }
}

// ---- Hostile input -----------------------------------------------------------------

class Hostile {
 public:
  explicit Hostile(uint32_t seed) : rng_(seed) {}

  std::string Next(int i) {
    switch (i % 12) {
      case 0: return RandomBytes(Below(300));
      case 1: {
        std::string good = GoodMessage();
        return good.substr(0, Below(good.size()));
      }
      case 2: return Mutate(GoodMessage());
      case 3: return Deep(i % 24 == 3);
      case 4: return WithNumber();
      case 5: return WrongTypes();
      case 6: return MissingEnvelope();
      case 7: return i % 120 == 7 ? HugeString() : Mutate(GoodIdentify());
      case 8: return GoodIdentify();
      case 9: return GoodMessage();
      case 10: return JsonNoise(0);
      default: return Splice();
    }
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  template <size_t N>
  const char* Pick(const char* const (&items)[N]) { return items[Below(N)]; }

  std::string RandomBytes(size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(Below(256));
    return s;
  }

  std::string Value() {
    static const char* const kValues[] = {
        "true", "false", "null", "0", "-1", "12.5", "1e308", "-1e-308", "1e3",
        "9223372036854775807", "9223372036854775808", "18446744073709551615",
        "-9223372036854775808", "\"\"", "\"x\"", "\"1d12h\"", "\"90m\"", "\"2026-11-22T21:57:10Z\"",
        "\"2024-02-30T00:00:00Z\"", "[]", "[1,2,3]", "[\"a\",\"b\"]", "[\"a\",1]", "{}",
        "{\"a\":{\"b\":[null]}}", "\"\\u00e9\\n\\\"\"", "[[[]]]", "0.0000001", "-0"};
    return Pick(kValues);
  }

  std::string Properties() {
    static const char* const kNames[] = {"paid", "amount", "count", "note", "at", "wait",
                                         "skus", "coupon", "qty", "nums", "label", "other"};
    std::string s = "{";
    size_t n = Below(12);
    for (size_t i = 0; i < n; ++i) {
      if (i) s += ",";
      s += "\"" + std::string(Pick(kNames)) + "\":" + Value();
    }
    return s + "}";
  }

  std::string GoodMessage() {
    return R"({"type":"track","event":"order","messageId":"m-)" + std::to_string(Below(1000)) +
           R"(","userId":"c-1","timestamp":"2026-11-22T21:57:10.123Z","properties":{)" +
           kRequired + R"(,"skus":["a","b"],"nums":[1,2]}})";
  }

  std::string GoodIdentify() {
    static const char* const kNames[] = {"country", "tier", "email_opt_in", "ltv", "nickname",
                                         "visits", "langs", "seen", "unknown", "x"};
    std::string traits = "{";
    size_t n = Below(8);
    for (size_t i = 0; i < n; ++i) {
      if (i) traits += ",";
      traits += "\"" + std::string(Pick(kNames)) + "\":" + Value();
    }
    traits += "}";
    return R"({"type":"identify","messageId":"i","anonymousId":"a","timestamp":"2026-01-01T00:00:00+01:00","traits":)" +
           traits + "}";
  }

  std::string Mutate(std::string s) {
    size_t n = 1 + Below(4);
    for (size_t i = 0; i < n && !s.empty(); ++i) {
      size_t pos = Below(s.size());
      switch (Below(3)) {
        case 0: s[pos] = static_cast<char>(Below(256)); break;
        case 1: s.erase(pos, 1 + Below(5)); break;
        default: s.insert(pos, 1, "{}[]\",:\\0e-."[Below(13)]); break;
      }
    }
    return s;
  }

  std::string Deep(bool inside) {
    size_t depth = Below(4) == 0 ? 100000 : 500 + Below(2000);
    bool objects = Below(2) == 0;
    std::string open, close;
    open.reserve(depth * 6);
    for (size_t i = 0; i < depth; ++i) open += objects ? "{\"a\":" : "[";
    for (size_t i = 0; i < depth; ++i) close += objects ? "}" : "]";
    std::string nested = open + "1" + close;
    if (Below(3) == 0) nested = open;  // unbalanced
    if (!inside) return nested;
    return R"({"type":"identify","messageId":"m","userId":"u","timestamp":"2026-01-01T00:00:00Z","traits":{"deep":)" +
           nested + R"(,"skus":)" + nested + "}}";
  }

  std::string WithNumber() {
    static const char* const kNumbers[] = {
        "1e400", "-1e400", "1e-400", "123456789012345678901234567890", "-9223372036854775809",
        "18446744073709551616", "1.7976931348623157e308", "4.9e-324", "NaN", "Infinity",
        "-", "1.", ".5", "01", "1e", "0x10", "9007199254740993", "-0.0", "1E+2"};
    static const char* const kFields[] = {"amount", "count", "wait", "qty", "paid", "nums"};
    std::string number = Pick(kNumbers);
    std::string field = Pick(kFields);
    if (field == "nums") number = "[" + number + "]";
    return Order("{" + kRequired + ",\"" + field + "\":" + number + "}");
  }

  std::string WrongTypes() {
    return Order(Properties());
  }

  std::string MissingEnvelope() {
    static const char* const kParts[] = {
        R"("type":"track")", R"("type":"identify")", R"("type":"page")", R"("type":null)",
        R"("event":"order")", R"("event":"ping")", R"("event":"nope")", R"("event":1)",
        R"("messageId":"m")", R"("messageId":"")", R"("messageId":null)",
        R"("userId":"u")", R"("userId":"")", R"("userId":7)", R"("anonymousId":"a")",
        R"("timestamp":"2026-11-22T21:57:10Z")", R"("timestamp":"2026-02-30T00:00:00Z")",
        R"("timestamp":1)", R"("properties":{})", R"("properties":[])", R"("traits":{})",
        R"("traits":null)"};
    std::string s = "{";
    size_t n = Below(9);
    for (size_t i = 0; i < n; ++i) {
      if (i) s += ",";
      s += Pick(kParts);
    }
    return s + "}";
  }

  std::string HugeString() {
    // Around the 1 MiB limit: just under, and just over.
    size_t n = (size_t{1} << 20) - 200 + Below(400);
    std::string big(n, 'x');
    switch (Below(3)) {
      case 0: return Order("{" + kRequired + R"(,"coupon":")" + big + "\"}").substr(0, n + 200);
      case 1: return R"({"type":"identify","messageId":")" + big +
                     R"(","userId":"u","timestamp":"2026-01-01T00:00:00Z","traits":{"nickname":"x"}})";
      default: return Order(R"({"paid":true,"amount":1,"count":1,"note":")" + big.substr(0, n - 400) +
                            R"(","at":"2026-01-01T00:00:00Z","wait":"1d"})");
    }
  }

  std::string JsonNoise(int depth) {
    switch (depth > 4 ? 0 : Below(4)) {
      case 0: return Value();
      case 1: {
        std::string s = "[";
        size_t n = Below(4);
        for (size_t i = 0; i < n; ++i) s += (i ? "," : "") + JsonNoise(depth + 1);
        return s + "]";
      }
      default: {
        std::string s = "{";
        size_t n = Below(4);
        for (size_t i = 0; i < n; ++i) {
          static const char* const kKeys[] = {"type", "event", "messageId", "userId",
                                              "timestamp", "properties", "traits", "k"};
          s += (i ? "," : "") + std::string("\"") + Pick(kKeys) + "\":" + JsonNoise(depth + 1);
        }
        return s + "}";
      }
    }
  }

  std::string Splice() {
    std::string a = GoodMessage(), b = GoodIdentify();
    return a.substr(0, Below(a.size())) + b.substr(Below(b.size()));
  }

  std::mt19937 rng_;
};

void CheckDecoded(const ProgramSpec& spec, const Message& m) {
  ASSERT_FALSE(m.message_id.empty());
  ASSERT_FALSE(m.customer.empty());
  switch (m.kind) {
    case MessageKind::kTrack: {
      ASSERT_TRUE(m.record);
      ASSERT_LT(m.event_type, spec.events.size());
      const RecordSpec& rs = spec.events[m.event_type];
      ASSERT_EQ(m.record->size(), std::max<uint32_t>(rs.size, JN_EVENT_FIELDS_OFFSET));
      RecordView r(m.record->data());
      ASSERT_EQ(r.header().type_id, rs.type_id);
      ASSERT_EQ(r.header().time_us, m.time_us);
      ASSERT_EQ(std::string(r.header().id.data, r.header().id.len), m.message_id);
      for (const FieldSpec& f : rs.fields) {
        JnValue v = m.record->GetField(f);
        ASSERT_EQ(v.type, f.type);
        if (f.type == JN_STRING && r.IsPresent(JN_EVENT_PRESENT_OFFSET, f.presence_bit)) {
          ASSERT_NE(v.s.data, nullptr) << f.name;
          volatile char sink = 0;
          for (uint32_t i = 0; i < v.s.len; ++i) sink = sink ^ v.s.data[i];  // readable
        }
        if (f.type == JN_LIST) {
          const auto* p = static_cast<const volatile uint8_t*>(v.l.data);
          uint8_t sink = 0;
          for (size_t i = 0; i < size_t{v.l.len} * v.l.elem_size; ++i) sink ^= p[i];
          (void)sink;
        }
        if (f.type == JN_FLOAT) {
          ASSERT_TRUE(std::isfinite(v.f));
        }
      }
      break;
    }
    case MessageKind::kIdentify: {
      ASSERT_TRUE(m.trait_storage);
      for (const auto& [index, value] : m.traits) {
        ASSERT_GE(index, 0);
        ASSERT_LT(static_cast<size_t>(index), spec.profile.fields.size());
        ASSERT_TRUE(value.type == spec.profile.fields[index].type || value.type == kTraitAbsent);
      }
      break;
    }
    case MessageKind::kIgnored:
      ASSERT_FALSE(m.record);
      ASSERT_EQ(spec.FindEvent(m.ignored_event), -1);
      break;
  }
}

TEST_F(DecoderTest, HostileInputNeverCrashes) {
  Hostile gen(20261122);
  RecordRef<Record> profile = MakeDefaultProfile(*spec_);
  int decoded = 0, rejected = 0;
  Message m;  // reused across decodes on purpose
  std::string error;
  for (int i = 0; i < 10000; ++i) {
    std::string input = gen.Next(i);
    bool ok = Decode(input, m, error);
    if (ok) {
      ++decoded;
      EXPECT_TRUE(error.empty());
      CheckDecoded(*spec_, m);
      if (m.kind == MessageKind::kIdentify) profile = MergeTraits(*spec_, *profile, m);
    } else {
      ++rejected;
      ASSERT_FALSE(error.empty()) << i;
      EXPECT_EQ(error.find('\n'), std::string::npos) << error;
      EXPECT_LT(error.size(), 300u) << error;
      EXPECT_FALSE(m.record);
    }
    if (HasFatalFailure()) FAIL() << "input #" << i << ": " << input.substr(0, 300);
  }
  EXPECT_GT(decoded, 1000);
  EXPECT_GT(rejected, 3000);
  // The profile survived hundreds of merges and every field still reads.
  for (const FieldSpec& f : spec_->profile.fields) {
    JnValue v = profile->GetField(f);
    EXPECT_EQ(v.type, f.type);
    if (f.type == JN_STRING && v.s.len > 0) {
      EXPECT_NE(std::string(v.s.data, v.s.len), "");
    }
    if (f.type == JN_LIST) {
      EXPECT_EQ(v.l.elem_size, sizeof(JnStr));
    }
  }
}

TEST_F(DecoderTest, DeepNestingAndHugeInputsAreErrors) {
  std::string deep_array(100000, '[');
  deep_array += std::string(100000, ']');
  EXPECT_EQ(ErrorOf(deep_array).rfind("invalid JSON: ", 0), 0u);
  std::string deep_prop = Order("{" + kRequired + R"(,"skus":)" + std::string(2000, '[') +
                                std::string(2000, ']') + "}");
  EXPECT_EQ(ErrorOf(deep_prop),
            "invalid JSON: The JSON document was too deep (too many nested objects and arrays)");
  // A 1 MiB string within the size limit decodes; past it, it is refused.
  std::string big((size_t{1} << 20) - 400, 'z');
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(Order("{" + kRequired + R"(,"coupon":")" + big + "\"}"), m, error)) << error;
  EXPECT_EQ(RecordView(m.record->data()).GetStr(128).len, big.size());
  big += std::string(1000, 'z');
  EXPECT_EQ(ErrorOf(Order("{" + kRequired + R"(,"coupon":")" + big + "\"}")).rfind("message is larger than 1 MiB", 0),
            0u);
  // A huge bad timestamp is quoted short.
  std::string ts(5000, '9');
  EXPECT_EQ(ErrorOf(R"({"type":"track","event":"ping","messageId":"m","userId":"u","timestamp":")" + ts + "\"}"),
            "timestamp '" + std::string(40, '9') + "...' is not ISO-8601");
}

// ---- what the Segment and RudderStack SDKs send ------------------------------------

TEST_F(DecoderTest, PageCallsAreTheEventPageWithNameAndCategory) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(R"({"type":"page","name":"Pricing","category":"Docs","messageId":"p1",)"
                     R"("userId":"u","timestamp":"2026-01-01T00:00:00Z",)"
                     R"("properties":{"path":"/pricing","url":"https://x"}})",
                     m, error))
      << error;
  ASSERT_EQ(m.kind, MessageKind::kTrack);
  EXPECT_EQ(m.event_type, 3u);
  const RecordSpec& page = spec_->events[3];
  RecordView r(m.record->data());
  EXPECT_EQ(r.GetString(page.fields[0].offset), "Pricing");
  EXPECT_EQ(r.GetString(page.fields[1].offset), "Docs");
  EXPECT_EQ(r.GetString(page.fields[2].offset), "/pricing");
  // A property of the same name wins over the top-level member (Segment copies
  // category into the properties too); neither given: absent.
  ASSERT_TRUE(Decode(R"({"type":"page","name":"Pricing","messageId":"p2","userId":"u",)"
                     R"("timestamp":"2026-01-01T00:00:00Z","properties":{"name":"Plans"}})",
                     m, error))
      << error;
  RecordView r2(m.record->data());
  EXPECT_EQ(r2.GetString(page.fields[0].offset), "Plans");
  EXPECT_FALSE(r2.IsPresent(JN_EVENT_PRESENT_OFFSET, 1));
  EXPECT_FALSE(r2.IsPresent(JN_EVENT_PRESENT_OFFSET, 2));
  // A page call's name has the type of the declared field.
  EXPECT_EQ(ErrorOf(R"({"type":"page","name":7,"messageId":"p3","userId":"u",)"
                    R"("timestamp":"2026-01-01T00:00:00Z"})"),
            "property 'name' must be a string, got number");
}

TEST_F(DecoderTest, ScreenCallsOfAnUndeclaredEventAreIgnored) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(R"({"type":"screen","name":"Checkout","messageId":"s1","userId":"u",)"
                     R"("timestamp":"2026-01-01T00:00:00Z","properties":{"step":2}})",
                     m, error))
      << error;
  EXPECT_EQ(m.kind, MessageKind::kIgnored);
  EXPECT_EQ(m.ignored_event, "screen");
  EXPECT_EQ(m.ignored_call, nullptr);
}

TEST_F(DecoderTest, GroupAndAliasAreAcceptedNotUsed) {
  Message m;
  std::string error;
  ASSERT_TRUE(Decode(R"({"type":"group","groupId":"acme","traits":{"name":"Acme"},)"
                     R"("messageId":"g1","userId":"u","timestamp":"2026-01-01T00:00:00Z"})",
                     m, error))
      << error;
  EXPECT_EQ(m.kind, MessageKind::kIgnored);
  EXPECT_STREQ(m.ignored_call, "group");
  EXPECT_EQ(m.customer, "u");
  ASSERT_TRUE(Decode(R"({"type":"alias","previousId":"anon-1","messageId":"a1","userId":"u",)"
                     R"("originalTimestamp":"2026-01-01T00:00:00Z"})",
                     m, error))
      << error;
  EXPECT_STREQ(m.ignored_call, "alias");
  // Still messages: the common members are checked.
  EXPECT_EQ(ErrorOf(R"({"type":"group","groupId":"acme","userId":"u","timestamp":"2026-01-01T00:00:00Z"})"),
            "missing messageId");
}

TEST_F(DecoderTest, OriginalTimestampStandsInForAMissingTimestamp) {
  Message m;
  std::string error;
  const std::string head = R"({"type":"track","event":"ping","messageId":"p","userId":"u")";
  int64_t t1 = 0, t2 = 0;
  ASSERT_TRUE(ParseTimestamp("2026-01-01T00:00:00Z", t1));
  ASSERT_TRUE(ParseTimestamp("2026-01-02T00:00:00Z", t2));
  ASSERT_TRUE(Decode(head + R"(,"originalTimestamp":"2026-01-01T00:00:00Z"})", m, error)) << error;
  EXPECT_EQ(m.time_us, t1);
  ASSERT_TRUE(Decode(head + R"(,"timestamp":null,"originalTimestamp":"2026-01-01T00:00:00Z"})", m, error));
  EXPECT_EQ(m.time_us, t1);
  // Both: the pipeline's timestamp counts.
  ASSERT_TRUE(Decode(head + R"(,"originalTimestamp":"2026-01-01T00:00:00Z","timestamp":"2026-01-02T00:00:00Z"})",
                     m, error));
  EXPECT_EQ(m.time_us, t2);
  EXPECT_EQ(ErrorOf(head + R"(,"originalTimestamp":"soon"})"), "originalTimestamp 'soon' is not ISO-8601");
  EXPECT_EQ(ErrorOf(head + R"(,"originalTimestamp":5})"), "originalTimestamp must be a string, got number");
  EXPECT_EQ(ErrorOf(head + "}"), "missing timestamp");
}

TEST_F(DecoderTest, NumericCustomerIdsReadAsDecimalText) {
  Message m;
  std::string error;
  const std::string head = R"({"type":"track","event":"ping","messageId":"p",)";
  const std::string tail = R"(,"timestamp":"2026-01-01T00:00:00Z"})";
  for (const auto& [id, text] : std::vector<std::pair<std::string, std::string>>{
           {"4242", "4242"}, {"-7", "-7"}, {"4242.0", "4242"}, {"1e3", "1000"},
           {"18446744073709551615", "18446744073709551615"}}) {
    ASSERT_TRUE(Decode(head + R"("userId":)" + id + tail, m, error)) << id << ": " << error;
    EXPECT_EQ(m.customer, text) << id;
    EXPECT_FALSE(m.customer_is_anonymous);
  }
  ASSERT_TRUE(Decode(head + R"("anonymousId":77)" + tail, m, error)) << error;
  EXPECT_EQ(m.customer, "77");
  EXPECT_TRUE(m.customer_is_anonymous);
}

TEST_F(DecoderTest, WhatTheSdksAddIsAccepted) {
  Message m;
  std::string error;
  // As captured from @rudderstack/rudder-sdk-node (no timestamp, a channel, _metadata,
  // a per-message sentAt) and @segment/analytics-node (integrations, context), after
  // a UTF-8 byte-order mark.
  const std::string rudder =
      "\xEF\xBB\xBF"
      R"({"userId":"u1","event":"purchase","properties":{"amount":99,"order_id":"o-1"},)"
      R"("context":{"library":{"name":"analytics-node","version":"3.0.13"}},"type":"track",)"
      R"("channel":"server","_metadata":{"nodeVersion":"20.20.2"},)"
      R"("originalTimestamp":"2026-12-03T15:03:36.384Z","messageId":"55477886-d5b0",)"
      R"("sentAt":"2026-12-03T15:03:36.385Z","integrations":{"All":true}})";
  ASSERT_TRUE(Decode(rudder, m, error)) << error;
  EXPECT_EQ(m.kind, MessageKind::kTrack);
  EXPECT_EQ(m.event_type, 2u);
  EXPECT_EQ(m.customer, "u1");
  // A byte-order mark anywhere else is not JSON.
  EXPECT_EQ(ErrorOf(" \xEF\xBB\xBF{}").rfind("invalid JSON", 0), 0u);
}

}  // namespace
}  // namespace juncture::runtime
