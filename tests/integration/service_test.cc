// serve as a library (juncture/serve/serve.h, Service): started, reloaded and stopped
// by its caller, never touching the process's signals, against a real nats-server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <string>

#include "client.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/compiler.h"
#include "juncture/serve/serve.h"
#include "process.h"

namespace juncture::itest {
namespace {

const char* kProgram = R"(
event cart { cart_id: string  value: float }
profile { email_opt_in: bool = true }
channel email { consent profile.email_opt_in }
journey instant {
  on cart
  reenter always
  send email "TEMPLATE" { cart: event.cart_id }
}
)";

std::string Program(const std::string& template_name) {
  std::string s = kProgram;
  s.replace(s.find("TEMPLATE"), 8, template_name);
  return s;
}

std::string Cart(const std::string& id) {
  return R"({"type":"track","event":"cart","messageId":")" + id +
         R"(","userId":"c1","timestamp":"2026-12-03T12:00:00Z","properties":{"cart_id":"k","value":5}})";
}

TEST(ServeService, StartsDecidesReloadsAndStopsWithoutTheProcessSignals) {
  NatsServer nats;
  ASSERT_TRUE(nats.Start());
  std::string source = Program("first");
  serve::ServeOptions options;
  options.nats.url = nats.url();
  options.state.memory_only = true;
  options.quiet = true;
  serve::ProgramLoader loader = [&source]() -> Result<runtime::CompiledProgram> {
    auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
    if (!c->ok()) return c->status();
    return compiler::MakeInterpretedProgram(*c);
  };
  // The library leaves the signal mask alone (the command blocks SIGTERM, SIGINT, SIGHUP).
  sigset_t before, after;
  pthread_sigmask(SIG_BLOCK, nullptr, &before);
  Result<std::unique_ptr<serve::Service>> started = serve::Service::Start(options, loader);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::unique_ptr<serve::Service> service = *std::move(started);
  pthread_sigmask(SIG_BLOCK, nullptr, &after);
  EXPECT_EQ(sigismember(&after, SIGTERM), sigismember(&before, SIGTERM));
  EXPECT_EQ(sigismember(&after, SIGHUP), sigismember(&before, SIGHUP));

  Client client;
  ASSERT_TRUE(client.Connect(nats.url()));
  ASSERT_TRUE(client.Subscribe("juncture.actions.>"));
  ASSERT_TRUE(client.Publish("juncture.events.p.0", Cart("m-1")));
  ASSERT_TRUE(client.WaitForCount("juncture.actions.email", 1, 10000));
  EXPECT_NE(client.On("juncture.actions.email")[0].data.find("\"template\":\"first\""), std::string::npos);

  // A reload the caller asks for; a program that does not compile keeps the running one.
  source = Program("second");
  service->Reload("test: the program changed");
  ASSERT_TRUE(client.Publish("juncture.events.p.0", Cart("m-2")));
  ASSERT_TRUE(client.WaitForCount("juncture.actions.email", 2, 10000));
  EXPECT_NE(client.On("juncture.actions.email")[1].data.find("\"template\":\"second\""), std::string::npos);
  source = "journey broken {";
  service->Reload("test: a broken program");
  ASSERT_TRUE(client.Publish("juncture.events.p.0", Cart("m-3")));
  ASSERT_TRUE(client.WaitForCount("juncture.actions.email", 3, 10000));
  EXPECT_NE(client.On("juncture.actions.email")[2].data.find("\"template\":\"second\""), std::string::npos);

  EXPECT_EQ(service->Stop(), serve::kExitStopped);
  EXPECT_EQ(service->Stop(), serve::kExitStopped);  // once stopped, the same answer
  // Stopped: nothing decides any more.
  ASSERT_TRUE(client.Publish("juncture.events.p.0", Cart("m-4")));
  EXPECT_FALSE(client.WaitForCount("juncture.actions.email", 4, 1000));
}

TEST(ServeService, AStartThatCannotConnectSaysWhy) {
  serve::ServeOptions options;
  options.nats.url = "nats://127.0.0.1:1";
  options.state.memory_only = true;
  serve::ProgramLoader loader = []() -> Result<runtime::CompiledProgram> {
    auto c = compiler::CompileSources({{"t.jny", Program("x")}}, compiler::CompileOptions{});
    return compiler::MakeInterpretedProgram(*c);
  };
  Result<std::unique_ptr<serve::Service>> started = serve::Service::Start(options, loader);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::kUnavailable) << started.status().ToString();
  EXPECT_THAT(started.status().message(),
              ::testing::HasSubstr("cannot connect to nats://127.0.0.1:1"));
}

// The same with JetStream: the start fails, and the half-made server is taken down
// without touching the connection it never had (a crash here, once).
TEST(ServeService, AJetStreamStartThatCannotConnectSaysWhyAndReturns) {
  serve::ServeOptions options;
  options.nats.url = "nats://127.0.0.1:1";
  options.state.memory_only = true;
  options.jetstream.enabled = true;
  serve::ProgramLoader loader = []() -> Result<runtime::CompiledProgram> {
    auto c = compiler::CompileSources({{"t.jny", Program("x")}}, compiler::CompileOptions{});
    return compiler::MakeInterpretedProgram(*c);
  };
  Result<std::unique_ptr<serve::Service>> started = serve::Service::Start(options, loader);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::kUnavailable) << started.status().ToString();
  EXPECT_THAT(started.status().message(),
              ::testing::HasSubstr("cannot connect to nats://127.0.0.1:1"));
}

}  // namespace
}  // namespace juncture::itest
