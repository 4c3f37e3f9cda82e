// The checker: one table of programs that must fail with a given message, one of
// programs that must pass, plus focused tests for bindings, types and step ids.
#include <gtest/gtest.h>

#include "../test_util.h"
#include "ast/ast.h"
#include "sema/sema.h"

namespace juncture::compiler {
namespace {

using juncture::testing::Brief;
using juncture::testing::CompileOne;
using juncture::testing::kPrelude;

struct Case {
  const char* name;
  const char* source;   // appended to kPrelude
  const char* message;  // expected in the diagnostics ("" = must compile cleanly)
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

class CheckerErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(CheckerErrorTest, ReportsTheError) {
  const Case& c = GetParam();
  auto comp = CompileOne(std::string(kPrelude) + c.source);
  std::string b = Brief(*comp);
  EXPECT_FALSE(comp->ok()) << b;
  EXPECT_NE(b.find(c.message), std::string::npos) << "want: " << c.message << "\ngot:\n" << b;
}

const Case kErrors[] = {
    {"unknown_trigger", "journey j { on purchse send email \"t\" }", "unknown event 'purchse'; did you mean 'purchase'?"},
    {"unknown_channel", "journey j { on purchase send emial \"t\" }", "unknown channel 'emial'; did you mean 'email'?"},
    {"unknown_event_field", "journey j { on purchase when event.amout > 1 send email \"t\" }", "event 'purchase' has no field 'amout'; did you mean 'amount'?"},
    {"unknown_profile_field", "segment s = profile.contry == \"US\"\njourney j { on purchase eligible s send email \"t\" }", "the profile has no field 'contry'"},
    {"unknown_name", "journey j { on purchase eligible vipp send email \"t\" }", "unknown name 'vipp'"},
    {"event_name_as_value", "journey j { on purchase eligible cart send email \"t\" }", "'cart' is an event"},
    {"unknown_function", "journey j { on purchase send email \"t\" { a: lowr(\"x\") } }", "unknown function 'lowr'; did you mean 'lower'?"},
    {"stdlib_arg_type", "journey j { on purchase send email \"t\" { a: lower(event.amount) } }", "argument 1 of lower() must be string, not float"},
    {"stdlib_arity", "journey j { on purchase send email \"t\" { a: min(1) } }", "no form of min() takes (int)"},
    {"duplicate_journey", "journey j { on purchase send email \"a\" }\njourney j { on purchase send email \"b\" }", "journey 'j' is already declared"},
    {"duplicate_event", "event purchase { }", "event 'purchase' is already declared"},
    {"duplicate_field", "event x { a: int  a: int }", "field 'a' is already declared in event 'x'"},
    {"duplicate_profile_field", "profile { country: string = \"\" }", "profile field 'country' is already declared"},
    {"segment_const_clash", "segment k = true\nconst k = 1", "const 'k' is already declared as a segment"},
    {"segment_cycle", "segment a = b\nsegment b = a\njourney j { on purchase eligible a send email \"t\" }", "depends on itself (a -> b -> a)"},
    {"const_cycle", "const A = B + 1\nconst B = A\njourney j { on purchase when event.amount > A send email \"t\" }", "depends on itself"},
    {"const_not_constant", "const A = profile.ltv", "a const must be a constant; 'profile' is not known"},
    {"const_reads_now", "const A = now", "a const must be a constant; 'now'"},
    {"segment_reads_event", "segment s = event.amount > 3", "a segment cannot read 'event'"},
    {"segment_not_bool", "segment s = profile.ltv", "a segment must be a bool, not float"},
    {"optional_without_guard", "journey j { on purchase when event.coupon == \"X\" send email \"t\" }", "this value is optional (string?)"},
    {"optional_in_len", "journey j { on purchase when len(event.coupon) > 3 send email \"t\" }", "this value is optional"},
    {"optional_param", "journey j { on purchase send email \"t\" { c: event.coupon } }", "this value is optional"},
    {"coalesce_wrong_default", "journey j { on purchase send email \"t\" { c: event.coupon ?? 3 } }", "the default after '?\?' must be string, not int"},
    {"no_string_number_mix", "journey j { on purchase when event.amount > \"50\" send email \"t\" }", "cannot compare float with string"},
    {"bool_ordering", "journey j { on purchase when profile.email_opt_in < true send email \"t\" }", "'<' does not order bool values"},
    {"in_needs_list", "journey j { on purchase when profile.country in \"US\" send email \"t\" }", "'in' needs a list, not string"},
    {"in_element_type", "journey j { on purchase when profile.country in [1, 2] send email \"t\" }", "'in' compares string with the elements of a list<int>"},
    {"mixed_list", "const L = [1, \"a\"]", "list elements must all have one type"},
    {"dynamic_list_outside_in", "journey j { on purchase send email \"t\" { l: [event.order_id] } }", "list elements must be constants here"},
    {"and_needs_bool", "journey j { on purchase when event.amount and true send email \"t\" }", "'and' needs bools, not float"},
    {"arith_types", "journey j { on purchase send email \"t\" { x: event.order_id - 1 } }", "'-' cannot combine string and int"},
    {"if_not_bool", "journey j { on purchase if event.amount { send email \"t\" } }", "an 'if' condition must be a bool, not float"},
    {"clock_in_expr", "journey j { on purchase when 21:00 > 3 send email \"t\" }", "a clock time like 21:00 can only appear"},
    {"no_trigger", "journey j { send email \"t\" }", "journey 'j' has no trigger"},
    {"split_not_100", "journey j { on purchase split { 50%: control 40%: send email \"t\" } }", "split percents add up to 90%, not 100%"},
    {"split_over_100", "journey j { on purchase split { 60%: control 60%: control } }", "split percents add up to 120%, not 100%"},
    {"limit_violation", "journey j { limit discount <= 20%\n on purchase send email \"t\" { discount: 25% } }", "parameter 'discount' is 25%, outside the approved limit discount <= 20%"},
    {"limit_not_constant", "journey j { limit discount <= profile.ltv\n on purchase send email \"t\" { discount: 1 } }", "a limit bound must be a constant"},
    {"limit_on_string", "journey j { limit discount <= 2\n on purchase send email \"t\" { discount: event.order_id } }", "has a limit, so it must be a number"},
    {"wait_until_unknown", "journey j { on purchase exit on unsubscribed wait until purchse within 1d { send email \"t\" } }", "unknown event 'purchse'"},
    {"wait_until_binding", "journey j { on purchase exit on unsubscribed wait until app_open within 1d { send email \"t\" { o: event.order_id } } }", "event 'app_open' has no field 'order_id'"},
    {"after_wait_until_union", "journey j { on purchase exit on unsubscribed wait until cart within 1d\n send email \"t\" { o: event.order_id } }", "event 'cart' has no field 'order_id' ('event' here may be any of: purchase cart)"},
    {"multi_trigger_union", "journey j { on purchase on cart send email \"t\" { v: event.amount } }", "event 'cart' has no field 'amount'"},
    {"where_binds_counted_event", "journey j { on purchase when count(cart within 1d where event.amount > 1) > 0 send email \"t\" }", "event 'cart' has no field 'amount'"},
    {"sum_non_numeric", "journey j { on purchase when sum(purchase.order_id within 1d) > 0 send email \"t\" }", "sum(...) needs a numeric field"},
    {"nested_window", "journey j { on purchase when count(cart within 1d where count(cart within 1h) > 0) > 0 send email \"t\" }", "cannot be used inside a window's 'where'"},
    {"reserved_field", "event x { time: int }", "field name 'time' is reserved"},
    {"unknown_type", "event x { a: strng }", "unknown type 'strng'; did you mean 'string'?"},
    {"list_without_elem", "event x { a: list }", "'list' needs an element type"},
    {"optional_default", "event x { a: int? = 3 }", "optional field 'a' cannot have a default"},
    {"default_type", "event x { a: int = \"3\" }", "default of field 'a' must be int, not string"},
    {"consent_not_bool", "channel sms { consent profile.country }", "consent must be a bool, not string"},
    {"duplicate_clause", "channel sms { consent true consent false }", "channel 'sms' has more than one 'consent'"},
    {"empty_quiet", "channel sms { consent true quiet 08:00 .. 08:00 }", "quiet window of channel 'sms' is empty"},
    {"zero_cap", "channel sms { consent true cap 0 per 1d }", "cap must allow at least 1 send"},
    {"duplicate_param", "journey j { on purchase send email \"t\" { a: 1, a: 2 } }", "parameter 'a' is given twice"},
    {"duplicate_reenter", "journey j { reenter always reenter never on purchase send email \"t\" }", "journey 'j' has more than one 'reenter'"},
    {"bare_event", "journey j { on purchase send email \"t\" { e: event } }", "'event' must be followed by a field"},
    {"member_of_value", "journey j { on purchase send email \"t\" { e: event.order_id.x } }", "only 'event' and 'profile' have fields"},
};

INSTANTIATE_TEST_SUITE_P(Errors, CheckerErrorTest,
                         ::testing::ValuesIn(kErrors),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CheckerTest, HourOfDayWithoutTimezoneFieldNeedsAnArgument) {
  auto c = CompileOne("event e { }\nprofile { }\nchannel c { consent true }\n"
                      "journey j { on e when hour_of_day() > 3 send c \"t\" }\n");
  EXPECT_NE(Brief(*c).find("hour_of_day() without a time zone reads profile.timezone"),
            std::string::npos) << Brief(*c);
  auto ok = CompileOne("event e { }\nprofile { }\nchannel c { consent true }\n"
                       "journey j { on e when hour_of_day(\"Europe/Paris\") > 3 send c \"t\" }\n");
  EXPECT_TRUE(ok->ok()) << Brief(*ok);
}

TEST(CheckerTest, ValidProgramsCompileWithoutWarnings) {
  const char* programs[] = {
      // int widens to float; ?? and has on optionals; lists; string ops.
      "const MIN = 50\n"
      "segment vip = profile.ltv >= 500 or profile.tier == \"gold\"\n"
      "journey j { on purchase when event.amount >= MIN and has(event.coupon)\n"
      "  eligible vip and profile.country in [\"US\", \"CA\"] and profile.country not in [\"XX\"]\n"
      "  send email \"t\" { c: lower(event.coupon ?? \"none\"), n: profile.nickname ?? \"friend\",\n"
      "                   tag: (event.tags ?? [\"x\"]) contains \"vip\", half: event.amount / 2 } }\n",
      // time arithmetic, windows, stdlib.
      "journey j { on purchase exit on unsubscribed\n"
      "  wait 1d12h\n"
      "  if now - event.time > 1d and time_since(app_open) > 2w { send email \"late\" }\n"
      "  else if count(cart within 7d where event.value > 10) >= 2 { send push \"carts\" }\n"
      "  else { split { 50%: control 50%: { send email \"a\" { h: hours(now - event.time), b: bucket(\"x\"), d: day_of_week() } } } }\n"
      "  wait until cart or app_open within 2d { send push \"back\" } else { exit }\n"
      "}\n",
      // dynamic list after in; sum of ints and floats.
      "journey j { on purchase when event.order_id in [event.coupon ?? \"\", profile.country]\n"
      "  and sum(purchase.amount within 30d) + sum(cart.items within 1d) > 100\n"
      "  send email \"t\" }\n",
      // a dynamic list after `in` whose elements hold another `in` (in a window's where).
      "journey j { on cart when 1 in [count(cart within 1h where event.items in [3, 4]), 2]\n"
      "  send email \"t\" }\n",
  };
  for (const char* p : programs) {
    auto c = CompileOne(std::string(kPrelude) + p);
    EXPECT_TRUE(c->ok()) << p << "\n" << Brief(*c);
    EXPECT_EQ(Brief(*c), "") << p;
  }
}

TEST(CheckerTest, DeclarationsResolveAcrossFilesInAnyOrder) {
  auto c = CompileSources({{"j.jny", "journey j { on purchase eligible vip send email \"t\" }\n"},
                           {"s.jny", "segment vip = profile.ltv > LIMIT\nconst LIMIT = 10\n"},
                           {"e.jny", "event purchase { }\nprofile { ltv: float = 0 }\n"
                                     "channel email { consent true }\n"}},
                          CompileOptions{});
  EXPECT_TRUE(c->ok()) << Brief(*c);
}

TEST(CheckerTest, StepIdsFollowSourceOrder) {
  auto c = CompileOne(std::string(kPrelude) +
                      "journey j { on purchase exit on unsubscribed\n"
                      "  wait 1h\n"                                   // s1
                      "  if event.amount > 1 { send email \"a\" }\n"  // s2, s3
                      "  else { control }\n"                          // s4
                      "  send push \"b\"\n"                           // s5
                      "}\n");
  ASSERT_TRUE(c->ok()) << Brief(*c);
  const auto* j = c->sema()->journeys[0].decl;
  ASSERT_EQ(j->body.steps.size(), 3u);
  EXPECT_EQ(j->body.steps[0]->id, "s1");
  const auto& f = static_cast<const ast::IfStep&>(*j->body.steps[1]);
  EXPECT_EQ(f.id, "s2");
  EXPECT_EQ(f.arms[0].body.steps[0]->id, "s3");
  EXPECT_EQ(f.else_body->steps[0]->id, "s4");
  EXPECT_EQ(j->body.steps[2]->id, "s5");
}

TEST(CheckerTest, EveryErrorIsReportedSortedByPosition) {
  auto c = CompileOne(std::string(kPrelude) +
                      "journey b { on nope send email \"t\" }\n"
                      "journey a { on purchase send nope \"t\" { x: lower(1) } }\n");
  std::string b = Brief(*c);
  size_t p1 = b.find("unknown event 'nope'");
  size_t p2 = b.find("unknown channel 'nope'");
  size_t p3 = b.find("argument 1 of lower()");
  ASSERT_NE(p1, std::string::npos) << b;
  ASSERT_NE(p2, std::string::npos) << b;
  ASSERT_NE(p3, std::string::npos) << b;
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
}

struct WarningCase {
  const char* code;
  const char* source;
};

TEST(CheckerTest, EachWarningHasItsCodeAndCanBeSwitchedOff) {
  const WarningCase cases[] = {
      {"unused-segment", "segment s = true\njourney j { on purchase send email \"t\" }"},
      {"unused-const", "const K = 1\njourney j { on purchase send email \"t\" }"},
      {"constant-condition", "journey j { on purchase if 1 > 2 { send email \"t\" } }"},
      {"unreachable-step", "journey j { on purchase exit send email \"t\" }"},
      {"wait-without-exit", "journey j { on purchase wait 1h send email \"t\" }"},
      {"channel-without-consent", "channel sms { }\njourney j { on purchase send sms \"t\" }"},
      {"unapproved", "journey j { approvals legal on purchase send email \"t\" }"},
      {"needless-optional-check", "journey j { on purchase when has(event.amount) send email \"t\" }"},
      {"unused-limit", "journey j { limit x <= 1 on purchase send email \"t\" }"},
  };
  for (const WarningCase& w : cases) {
    std::string src = std::string(kPrelude) + w.source;
    auto on = CompileSources({{"t.jny", src}}, CompileOptions{});
    EXPECT_TRUE(on->ok()) << w.code << "\n" << Brief(*on);
    bool found = false;
    for (const auto& d : on->diagnostics()) {
      found |= d.severity == Severity::kWarning && WarnCodeName(d.code) == w.code;
    }
    EXPECT_TRUE(found) << w.code << "\n" << Brief(*on);
    CompileOptions off;
    off.warnings.Disable(*WarnCodeFromName(w.code));
    auto quiet = CompileSources({{"t.jny", src}}, off);
    EXPECT_EQ(Brief(*quiet), "") << w.code;
  }
}

}  // namespace
}  // namespace juncture::compiler
