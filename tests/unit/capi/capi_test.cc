// The C API (capi/include/juncture.h) at its edges: compile errors with their
// positions, bad messages as dead letters, NULL and out-of-range arguments, callbacks
// that call back in, and the same decisions on both back ends.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "juncture.h"

extern "C" int capi_c99_decisions(void);  // capi_c99.c

namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kShop[] = R"(event signup { plan: string }
profile { email_opt_in: bool = false }
channel email { consent profile.email_opt_in }
)";
constexpr char kWelcome[] = R"(journey welcome {
  on signup
  send email "welcome" { plan: event.plan }
  wait 1d
  send email "tips" { plan: event.plan }
}
)";
constexpr char kIdentify[] =
    R"({"type":"identify","messageId":"i1","userId":"ana","timestamp":"2026-03-01T09:00:00Z","traits":{"email_opt_in":true}})";
constexpr char kSignup[] =
    R"({"type":"track","event":"signup","messageId":"s1","userId":"ana","timestamp":"2026-03-01T10:00:00Z","properties":{"plan":"pro"}})";

juncture_source Source(const char* name, const std::string& text) {
  return {name, text.data(), text.size()};
}

// An engine whose output is collected.
struct Session {
  std::vector<std::string> decisions;
  std::vector<std::pair<std::string, std::string>> dead;  // message, reason
  juncture_program* program = nullptr;
  juncture_engine* engine = nullptr;

  explicit Session(juncture_backend backend = JUNCTURE_BACKEND_INTERPRETER) {
    std::string shop = kShop, welcome = kWelcome;
    juncture_source sources[] = {Source("shop.jny", shop), Source("welcome.jny", welcome)};
    EXPECT_EQ(juncture_compile(sources, 2, nullptr, backend, &program), JUNCTURE_OK)
        << juncture_last_error();
    juncture_callbacks cb{&Session::OnDecision, &Session::OnDead, this};
    EXPECT_EQ(juncture_engine_new(program, &cb, &engine), JUNCTURE_OK);
  }
  ~Session() {
    juncture_engine_free(engine);
    juncture_program_free(program);
  }
  juncture_status Process(const std::string& json) {
    return juncture_engine_process(engine, json.data(), json.size());
  }
  static void OnDecision(void* user, const char* json, size_t length) {
    static_cast<Session*>(user)->decisions.emplace_back(json, length);
  }
  static void OnDead(void* user, const char* message, size_t length, const char* reason) {
    static_cast<Session*>(user)->dead.emplace_back(std::string(message, length), reason);
  }
};

TEST(CompileErrors, CarryFileLineAndColumn) {
  std::string shop = kShop;
  std::string bad = "journey oops {\n  on signpu\n  send email \"x\" { }\n}\n";
  juncture_source sources[] = {Source("shop.jny", shop), Source("oops.jny", bad)};
  juncture_program* program = reinterpret_cast<juncture_program*>(&shop);  // must be reset
  EXPECT_EQ(juncture_compile(sources, 2, nullptr, JUNCTURE_BACKEND_JIT, &program),
            JUNCTURE_ERROR_COMPILE);
  EXPECT_EQ(program, nullptr);
  std::string error = juncture_last_error();
  EXPECT_THAT(error, StartsWith("oops.jny:2:6: error: unknown event 'signpu'"));
  EXPECT_THAT(error, HasSubstr("did you mean 'signup'?"));
}

TEST(CompileErrors, SyntaxErrorsAndBadLedgers) {
  std::string text = "journey {";
  juncture_source source = Source("syntax.jny", text);
  juncture_program* program = nullptr;
  EXPECT_EQ(juncture_compile(&source, 1, nullptr, JUNCTURE_BACKEND_INTERPRETER, &program),
            JUNCTURE_ERROR_COMPILE);
  EXPECT_THAT(juncture_last_error(), StartsWith("syntax.jny:1:9: error:"));

  std::string shop = kShop;
  source = Source("shop.jny", shop);
  EXPECT_EQ(juncture_compile(&source, 1, "{not json", JUNCTURE_BACKEND_INTERPRETER, &program),
            JUNCTURE_ERROR_COMPILE);
  EXPECT_THAT(juncture_last_error(), HasSubstr("approvals ledger"));
  EXPECT_EQ(program, nullptr);
}

TEST(Arguments, NullAndOutOfRangeAreRefusedWithAMessage) {
  std::string shop = kShop;
  juncture_source source = Source("shop.jny", shop);
  juncture_program* program = nullptr;
  EXPECT_EQ(juncture_compile(nullptr, 1, nullptr, JUNCTURE_BACKEND_JIT, &program),
            JUNCTURE_ERROR_ARGUMENT);
  EXPECT_THAT(juncture_last_error(), HasSubstr("no sources"));
  EXPECT_EQ(juncture_compile(&source, 0, nullptr, JUNCTURE_BACKEND_JIT, &program),
            JUNCTURE_ERROR_ARGUMENT);
  EXPECT_EQ(juncture_compile(&source, 1, nullptr, JUNCTURE_BACKEND_JIT, nullptr),
            JUNCTURE_ERROR_ARGUMENT);
  EXPECT_THAT(juncture_last_error(), HasSubstr("out_program is NULL"));
  EXPECT_EQ(juncture_compile(&source, 1, nullptr, static_cast<juncture_backend>(7), &program),
            JUNCTURE_ERROR_ARGUMENT);
  EXPECT_THAT(juncture_last_error(), HasSubstr("unknown backend"));
  juncture_source nameless{nullptr, shop.data(), shop.size()};
  EXPECT_EQ(juncture_compile(&nameless, 1, nullptr, JUNCTURE_BACKEND_JIT, &program),
            JUNCTURE_ERROR_ARGUMENT);
  juncture_source textless{"x.jny", nullptr, 10};
  EXPECT_EQ(juncture_compile(&textless, 1, nullptr, JUNCTURE_BACKEND_JIT, &program),
            JUNCTURE_ERROR_ARGUMENT);
  EXPECT_EQ(program, nullptr);

  juncture_engine* engine = nullptr;
  EXPECT_EQ(juncture_engine_new(nullptr, nullptr, &engine), JUNCTURE_ERROR_ARGUMENT);
  EXPECT_THAT(juncture_last_error(), HasSubstr("program is NULL"));
  EXPECT_EQ(engine, nullptr);
  EXPECT_EQ(juncture_engine_process(nullptr, kSignup, sizeof kSignup - 1), JUNCTURE_ERROR_ARGUMENT);
  EXPECT_THAT(juncture_last_error(), HasSubstr("engine is NULL"));
  EXPECT_EQ(juncture_engine_process_at(nullptr, kSignup, 1, 0), JUNCTURE_ERROR_ARGUMENT);
  EXPECT_EQ(juncture_engine_advance_to(nullptr, 0), JUNCTURE_ERROR_ARGUMENT);
  EXPECT_EQ(juncture_engine_now(nullptr), 0);
  EXPECT_EQ(juncture_engine_next_timer(nullptr), std::numeric_limits<int64_t>::max());
  juncture_engine_free(nullptr);
  juncture_program_free(nullptr);

  Session run;
  EXPECT_EQ(juncture_engine_process(run.engine, nullptr, 5), JUNCTURE_ERROR_ARGUMENT);
  EXPECT_THAT(juncture_last_error(), HasSubstr("json is NULL"));
  EXPECT_TRUE(run.decisions.empty());
}

TEST(Messages, BadOnesAreDeadLettersWithTheirExactBytes) {
  Session run;
  const std::string cut = R"({"type":"track","event":"signup")";
  const std::string binary("\xff\x00{\"a\":1}", 9);  // not UTF-8, with a NUL inside
  EXPECT_EQ(run.Process(cut), JUNCTURE_OK);
  EXPECT_EQ(run.Process(binary), JUNCTURE_OK);
  EXPECT_EQ(juncture_engine_process(run.engine, "", 0), JUNCTURE_OK);  // empty, not NULL
  ASSERT_EQ(run.dead.size(), 3u);
  EXPECT_EQ(run.dead[0].first, cut);
  EXPECT_EQ(run.dead[1].first, binary);
  EXPECT_EQ(run.dead[2].first, "");
  for (const auto& [message, reason] : run.dead) EXPECT_FALSE(reason.empty()) << message;
  EXPECT_TRUE(run.decisions.empty());

  // The engine goes on deciding after them.
  EXPECT_EQ(run.Process(kIdentify), JUNCTURE_OK);
  EXPECT_EQ(run.Process(kSignup), JUNCTURE_OK);
  EXPECT_FALSE(run.decisions.empty());
}

TEST(Engine, DecisionsAreJsonLinesAndTimersFireOnAdvance) {
  Session run;
  ASSERT_EQ(run.Process(kIdentify), JUNCTURE_OK);
  ASSERT_EQ(run.Process(kSignup), JUNCTURE_OK);
  ASSERT_EQ(run.decisions.size(), 2u);  // entered, then the welcome email
  EXPECT_THAT(run.decisions[0], HasSubstr(R"("outcome":"entered")"));
  EXPECT_THAT(run.decisions[1], HasSubstr(R"("template":"welcome")"));
  EXPECT_THAT(run.decisions[1], HasSubstr(R"("outcome":"sent")"));
  EXPECT_THAT(run.decisions[1], HasSubstr(R"("params":{"plan":"pro"})"));
  for (const std::string& d : run.decisions) {
    EXPECT_EQ(d.front(), '{');
    EXPECT_EQ(d.find('\n'), std::string::npos);
  }

  const int64_t signup_us = juncture_engine_now(run.engine);
  const int64_t day_us = int64_t{24} * 3600 * 1'000'000;
  EXPECT_EQ(juncture_engine_next_timer(run.engine), signup_us + day_us);
  ASSERT_EQ(juncture_engine_advance_to(run.engine, signup_us + day_us - 1), JUNCTURE_OK);
  EXPECT_EQ(run.decisions.size(), 2u);  // not due yet
  ASSERT_EQ(juncture_engine_advance_to(run.engine, signup_us + day_us), JUNCTURE_OK);
  ASSERT_EQ(run.decisions.size(), 4u);  // tips, then completed
  EXPECT_THAT(run.decisions[2], HasSubstr(R"("template":"tips")"));
  EXPECT_EQ(juncture_engine_now(run.engine), signup_us + day_us);
}

TEST(Engine, BothBackEndsDecideAlike) {
  Session interpreted(JUNCTURE_BACKEND_INTERPRETER), native(JUNCTURE_BACKEND_JIT);
  for (Session* run : {&interpreted, &native}) {
    ASSERT_EQ(run->Process(kIdentify), JUNCTURE_OK);
    ASSERT_EQ(run->Process(kSignup), JUNCTURE_OK);
    ASSERT_EQ(juncture_engine_advance_to(run->engine, juncture_engine_now(run->engine) +
                                                           int64_t{2} * 24 * 3600 * 1'000'000),
              JUNCTURE_OK);
  }
  // entered, welcome, tips, completed
  ASSERT_EQ(interpreted.decisions.size(), 4u);
  EXPECT_THAT(interpreted.decisions[3], HasSubstr(R"("outcome":"completed")"));
  EXPECT_EQ(interpreted.decisions, native.decisions);
}

TEST(Engine, ProcessAtDecidesOnTheCallersClock) {
  Session run;
  const int64_t t = 1'900'000'000'000'000;  // 2030, long after the message's timestamp
  ASSERT_EQ(juncture_engine_process_at(run.engine, kIdentify, sizeof kIdentify - 1, t),
            JUNCTURE_OK);
  EXPECT_EQ(juncture_engine_now(run.engine), t);
}

// A callback that calls into its own engine is refused, and the engine stays usable.
TEST(Engine, CallbacksCannotReenter) {
  struct Reenter {
    juncture_engine* engine = nullptr;
    std::vector<juncture_status> inner;
    std::string error;
  } state;
  std::string shop = kShop, welcome = kWelcome;
  juncture_source sources[] = {Source("shop.jny", shop), Source("welcome.jny", welcome)};
  juncture_program* program = nullptr;
  ASSERT_EQ(juncture_compile(sources, 2, nullptr, JUNCTURE_BACKEND_INTERPRETER, &program),
            JUNCTURE_OK);
  juncture_callbacks cb{};
  cb.user = &state;
  cb.on_decision = [](void* user, const char*, size_t) {
    auto* s = static_cast<Reenter*>(user);
    s->inner.push_back(juncture_engine_process(s->engine, kSignup, sizeof kSignup - 1));
    s->error = juncture_last_error();
  };
  ASSERT_EQ(juncture_engine_new(program, &cb, &state.engine), JUNCTURE_OK);
  juncture_program_free(program);  // the engine keeps what it needs
  EXPECT_EQ(juncture_engine_process(state.engine, kSignup, sizeof kSignup - 1), JUNCTURE_OK);
  ASSERT_FALSE(state.inner.empty());
  for (juncture_status s : state.inner) EXPECT_EQ(s, JUNCTURE_ERROR_BUSY);
  EXPECT_THAT(state.error, HasSubstr("own callback"));
  EXPECT_EQ(juncture_engine_advance_to(state.engine, 0), JUNCTURE_OK);  // not stuck busy
  juncture_engine_free(state.engine);
}

// Freeing an engine from its own callback waits for the call to return.
TEST(Engine, FreedFromItsOwnCallback) {
  std::string shop = kShop, welcome = kWelcome;
  juncture_source sources[] = {Source("shop.jny", shop), Source("welcome.jny", welcome)};
  juncture_program* program = nullptr;
  ASSERT_EQ(juncture_compile(sources, 2, nullptr, JUNCTURE_BACKEND_INTERPRETER, &program),
            JUNCTURE_OK);
  struct Seen {
    juncture_engine* engine = nullptr;
    int decisions = 0;
  } seen;
  juncture_callbacks cb{};
  cb.user = &seen;
  cb.on_decision = [](void* user, const char*, size_t) {
    auto* s = static_cast<Seen*>(user);
    if (++s->decisions == 1) juncture_engine_free(s->engine);
  };
  ASSERT_EQ(juncture_engine_new(program, &cb, &seen.engine), JUNCTURE_OK);
  juncture_program_free(program);
  EXPECT_EQ(juncture_engine_process(seen.engine, kSignup, sizeof kSignup - 1), JUNCTURE_OK);
  EXPECT_EQ(seen.decisions, 2);  // entered, then the welcome email: the call went on
}

TEST(Errors, LastErrorIsPerThread) {
  EXPECT_EQ(juncture_engine_advance_to(nullptr, 0), JUNCTURE_ERROR_ARGUMENT);
  std::string other;
  std::thread([&] {
    other = juncture_last_error();  // nothing failed on this thread yet
    juncture_program* p = nullptr;
    juncture_compile(nullptr, 0, nullptr, JUNCTURE_BACKEND_JIT, &p);
  }).join();
  EXPECT_EQ(other, "");
  EXPECT_THAT(juncture_last_error(), HasSubstr("juncture_engine_advance_to"));
}

TEST(Header, IsC99AndUsableFromC) {
  EXPECT_EQ(capi_c99_decisions(), 3);  // entered, sent, completed
  EXPECT_STREQ(juncture_version(), JUNCTURE_EXPECTED_VERSION);  // project(VERSION)
}

}  // namespace
