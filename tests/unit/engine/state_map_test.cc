// The rule for carrying state onto an edited program, on its own (runtime/exec/
// state_map.h): what it does to one customer's records, which the engine's decisions
// cannot show: records of an unchanged layout are kept as they are, re-laid records
// get their type's new id and stay shared between an instance and the history.
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "exec/state_map.h"
#include "juncture/compiler/backend.h"
#include "juncture/runtime/record.h"

namespace juncture::enginetest {
namespace {

using runtime::CustomerState;
using runtime::Instance;
using runtime::ProgramMap;
using runtime::RecordPtr;
using runtime::RecordView;
using runtime::StateMap;

// A sum over cart: the history keeps the carts' records (a count alone keeps times).
const char* kJourney =
    "channel email { consent true }\n"
    "journey j { on cart wait 1h send email \"v\" { n: sum(cart.value within 1d) } }\n";

std::shared_ptr<const runtime::ProgramSpec> Spec(const std::string& source) {
  auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  return compiler::MakeInterpretedProgram(*c)->spec;
}

// A customer of `spec` waiting in `j` with a cart that is also in its history.
CustomerState Waiting(const runtime::ProgramSpec& spec) {
  runtime::Message m;
  Status decoded = runtime::DecodeMessage(
      spec, TrackJson("ana", "cart", At(0), R"({"value": 12.5, "coupon": "Q"})", "c1"), m);
  EXPECT_TRUE(decoded.ok()) << decoded.ToString();
  CustomerState c;
  c.profile = runtime::MakeDefaultProfile(spec);
  uint32_t wait = 0;
  while (spec.journeys[0].steps[wait].kind != runtime::StepKind::kWait) ++wait;
  Instance inst(wait, m.record, At(0));  // its cause: the cart's id, "c1"
  inst.timer = 1;
  c.instances[0] = std::move(inst);
  c.history[m.event_type].Append(At(0), m.record);
  return c;
}

// The cart of `c`'s instance and of its history, checked to be the same record.
RecordPtr Cart(const CustomerState& c, const runtime::ProgramSpec& spec) {
  EXPECT_EQ(c.instances.size(), 1u);
  EXPECT_EQ(c.history.size(), 1u);
  const RecordPtr& event = c.instances.begin()->second.event;
  auto h = c.history.find(static_cast<uint32_t>(spec.FindEvent("cart")));
  EXPECT_NE(h, c.history.end());
  if (h != c.history.end()) {
    EXPECT_EQ(h->second.at(0).second.get(), event.get()) << "not shared";
  }
  return event;
}

double Value(const RecordPtr& cart, const runtime::ProgramSpec& spec) {
  const runtime::RecordSpec& layout = spec.events[spec.FindEvent("cart")];
  for (const runtime::FieldSpec& f : layout.fields) {
    if (f.name == "value") return cart->GetField(f).f;
  }
  return -1;
}

TEST(StateMap, AnUnchangedLayoutKeepsTheSameRecords) {
  auto from = Spec(std::string(kBase) + kJourney);
  auto to = Spec(std::string(kBase) + kJourney + "journey k { on page_view send email \"k\" }\n");
  CustomerState c = Waiting(*from);
  const RecordPtr cart = Cart(c, *from);
  const auto profile = c.profile;
  std::vector<std::pair<uint32_t, Instance>> ended;
  StateMap map(*to);
  ProgramMap(*from, map).Carry(c, ended);
  EXPECT_TRUE(ended.empty());
  EXPECT_EQ(Cart(c, *to).get(), cart.get());
  EXPECT_EQ(c.profile.get(), profile.get());
}

TEST(StateMap, AMovedEventTypeIsReLaidOnceWithItsNewTypeId) {
  // A new event type first: cart's layout is the same, its type id is not.
  auto from = Spec(std::string(kBase) + kJourney);
  auto to = Spec("event signup { }\n" + std::string(kBase) + kJourney);
  ASSERT_NE(from->FindEvent("cart"), to->FindEvent("cart"));
  CustomerState c = Waiting(*from);
  const RecordPtr old = Cart(c, *from);
  std::vector<std::pair<uint32_t, Instance>> ended;
  StateMap map(*to);
  ProgramMap(*from, map).Carry(c, ended);
  EXPECT_TRUE(ended.empty());
  RecordPtr cart = Cart(c, *to);
  EXPECT_NE(cart.get(), old.get());
  EXPECT_EQ(RecordView(cart->data()).header().type_id,
            static_cast<uint32_t>(to->FindEvent("cart")));
  EXPECT_EQ(c.history.begin()->first, static_cast<uint32_t>(to->FindEvent("cart")));
  EXPECT_EQ(Value(cart, *to), 12.5);
  EXPECT_EQ(RecordView(cart->data()).GetString(JN_EVENT_ID_OFFSET), "c1");
  EXPECT_EQ(RecordView(cart->data()).header().time_us, At(0));
}

TEST(StateMap, AChangedLayoutIsReLaidOnceAndStaysShared) {
  auto from = Spec(std::string(kBase) + kJourney);
  std::string edited = kBase;
  edited.replace(edited.find("event cart {"), 12, "event cart { note: string = \"n/a\" ");
  auto to = Spec(edited + kJourney);
  CustomerState c = Waiting(*from);
  const RecordPtr old = Cart(c, *from);
  std::vector<std::pair<uint32_t, Instance>> ended;
  StateMap map(*to);
  ProgramMap(*from, map).Carry(c, ended);
  EXPECT_TRUE(ended.empty());
  RecordPtr cart = Cart(c, *to);
  EXPECT_NE(cart.get(), old.get());
  EXPECT_EQ(cart->size(), to->events[to->FindEvent("cart")].size);
  EXPECT_EQ(Value(cart, *to), 12.5);
}

// Onto a program whose windows over cart only count, the history lets its records
// go (the times stay); the instance keeps its event.
TEST(StateMap, AHistoryOnlyCountedLetsItsRecordsGo) {
  auto from = Spec(std::string(kBase) + kJourney);
  auto to = Spec(std::string(kBase) + "channel email { consent true }\n"
                 "journey j { on cart wait 1h send email \"v\" { n: count(cart within 1d) } }\n");
  CustomerState c = Waiting(*from);
  const RecordPtr old = Cart(c, *from);
  std::vector<std::pair<uint32_t, Instance>> ended;
  StateMap map(*to);
  ProgramMap(*from, map).Carry(c, ended);
  EXPECT_TRUE(ended.empty());
  ASSERT_EQ(c.history.size(), 1u);
  const runtime::EventHistory& history = c.history.begin()->second;
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history.at(0).first, At(0));
  EXPECT_EQ(history.at(0).second, nullptr);
  EXPECT_EQ(c.instances.begin()->second.event.get(), old.get());
}

}  // namespace
}  // namespace juncture::enginetest
