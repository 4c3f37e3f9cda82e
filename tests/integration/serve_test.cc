// `juncture serve` on core NATS, against a real nats-server: decisions, actions and
// dead letters on their subjects, wall-clock timers, a server restart mid-stream,
// hot reload, graceful stop.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "juncture/runtime/event.h"
#include "serve_fixture.h"

namespace juncture::itest {
namespace {

TEST_F(ServeFixture, DecisionsActionsAndDeadLettersArriveOnTheirSubjects) {
  StartServeWithMetrics({});
  const int metrics_port = metrics_port_;
  const std::vector<std::string> bad = {
      "not json at all",
      R"({"type":"track","event":"cart","messageId":"b2","timestamp":"2026-11-23T10:00:00Z","properties":{"cart_id":"k","value":1}})",
      R"({"type":"track","event":"cart","messageId":"b3","userId":"c","timestamp":"2026-11-23T10:00:00Z","properties":{"cart_id":"k","value":"high"}})",
      R"({"type":"track","event":"cart","messageId":"b4","userId":"c","timestamp":"yesterday","properties":{"cart_id":"k","value":1}})",
      R"([1,2,3])"};
  // Good and bad interleaved: the bad ones must not cost a good one.
  for (int i = 0; i < 20; ++i) {
    std::string id = "m" + std::to_string(i);
    ASSERT_TRUE(client_.Publish("juncture.events.web", CartJson("c" + std::to_string(i), id)));
    if (i % 4 == 3) {
      ASSERT_TRUE(client_.Publish("juncture.events.web", bad[i / 4]));
    }
  }
  ASSERT_TRUE(client_.Flush());

  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 20, 10000)) << serve_->Output();
  ASSERT_TRUE(client_.WaitForCount("juncture.deadletter", 5, 10000));
  // The pushes come from timers two seconds later, on the wall clock.
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.push", 20, 15000)) << serve_->Output();

  std::set<std::string> email_ids;
  for (const Received& r : client_.On("juncture.actions.email")) {
    EXPECT_EQ(JsonField(r.data, "channel"), "email");
    EXPECT_EQ(JsonField(r.data, "outcome"), "sent");
    EXPECT_EQ(JsonField(r.data, "template"), "cart_seen");
    EXPECT_EQ(r.msg_id, "") << "no header on core NATS unless --action-msg-id";
    email_ids.insert(JsonField(r.data, "id"));
  }
  EXPECT_EQ(email_ids.size(), 20u);
  EXPECT_TRUE(email_ids.count("m7:instant:s1"));
  for (const Received& r : client_.On("juncture.actions.push")) {
    EXPECT_EQ(JsonField(r.data, "journey"), "later");
    EXPECT_EQ(JsonField(r.data, "step"), "s2");
  }
  // Every decision is on juncture.decisions.<its journey>: 3 per message per journey
  // (the decision log goes out on a batching connection: it may trail the actions).
  ASSERT_TRUE(client_.WaitForCount("juncture.decisions.", 120, 5000));
  auto decisions = client_.On("juncture.decisions.");
  EXPECT_EQ(decisions.size(), 20u * 3 * 2);
  for (const Received& r : decisions) {
    EXPECT_EQ(r.subject, "juncture.decisions." + JsonField(r.data, "journey")) << r.data;
  }
  auto dead = client_.On("juncture.deadletter");
  ASSERT_EQ(dead.size(), 5u);
  for (size_t k = 0; k < dead.size(); ++k) {
    EXPECT_EQ(dead[k].data, bad[k]) << "the raw message, as received";
    EXPECT_FALSE(dead[k].error.empty()) << "the reason in the Juncture-Error header";
  }
  EXPECT_NE(dead[1].error.find("userId"), std::string::npos) << dead[1].error;

  // Nothing more than that arrives.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(client_.On("juncture.actions.").size(), 40u);

  // The same story in the metrics.
  std::string metrics = HttpGet(metrics_port, "/metrics");
  EXPECT_NE(metrics.find("200 OK"), std::string::npos) << metrics;
  for (const char* line : {
           "juncture_messages_total 25\n",
           "juncture_customers 20\n",
           "juncture_decisions_total{journey=\"instant\",outcome=\"sent\",reason=\"\"} 20\n",
           "juncture_decisions_total{journey=\"later\",outcome=\"sent\",reason=\"\"} 20\n",
           "juncture_dead_letters_total{reason_kind=\"invalid_json\"} 2\n",
           "juncture_dead_letters_total{reason_kind=\"missing_field\"} 1\n",
           "juncture_decision_to_publish_seconds_count{channel=\"email\"} 20\n",
           "juncture_receipt_to_decision_seconds_count{journey=\"instant\"} 60\n",
           "juncture_signal_to_decision_seconds_count{journey=\"instant\"} 20\n",
       }) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line << " not in:\n" << metrics;
  }
  EXPECT_NE(HttpGet(metrics_port, "/other").find("404"), std::string::npos);

  int status = serve_->Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << serve_->Output();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(serve_->Output().find("stopped."), std::string::npos) << serve_->Output();
}

// The example journeys on the demo stream: every decision on its journey's subject,
// every action on its channel's, the three bad lines of the stream as dead letters.
// The demo's lines, each timestamp replaced by one of the last second, in the lines'
// order. Serve decides at the wall clock, and a journey's deadline counts from the
// signal (the timestamp): with the demo's own dates every send would be late once
// they are more than a deadline old.
std::vector<std::string> RecentLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string& line = lines[i];
    const std::string key = "\"timestamp\":\"";
    size_t at = line.find(key);
    if (at == std::string::npos) continue;
    at += key.size();
    size_t end = line.find('"', at);
    int64_t t = 0;
    if (end == std::string::npos || !runtime::ParseTimestamp(line.substr(at, end - at), t)) continue;
    int64_t recent = now_us - 1'000'000 + static_cast<int64_t>(i) * 1000;
    line.replace(at, end - at, runtime::FormatTimestamp(recent));
  }
  return lines;
}

// One shard over core NATS writes a batch's actions, then its decision log, on one
// connection: a subscriber of both sees every action before its decision's log line.
TEST_F(ServeFixture, AnActionLeavesBeforeItsDecisionLogLine) {
  StartServe({});
  Client ordered;  // one subscription: NATS delivers in the order serve wrote
  ASSERT_TRUE(ordered.Connect(nats_.url()));
  ASSERT_TRUE(ordered.Subscribe("juncture.>"));
  ASSERT_TRUE(ordered.Flush());
  constexpr int kMessages = 60;  // a burst: decided in batches
  for (int i = 0; i < kMessages; ++i) {
    std::string id = "o" + std::to_string(i);
    ASSERT_TRUE(client_.Publish("juncture.events.web", CartJson("c" + std::to_string(i), id)));
  }
  ASSERT_TRUE(client_.Flush());
  auto sent_logged = [](const std::vector<Received>& all) {
    size_t n = 0;
    for (const Received& r : all) {
      n += r.subject == "juncture.decisions.instant" && JsonField(r.data, "outcome") == "sent";
    }
    return n;
  };
  ASSERT_TRUE(ordered.WaitFor(
      [&](const std::vector<Received>& all) { return sent_logged(all) >= kMessages; }, 10000))
      << serve_->Output();
  std::map<std::string, size_t> action_at;
  size_t checked = 0;
  const std::vector<Received> all = ordered.received();
  for (size_t k = 0; k < all.size(); ++k) {
    const Received& r = all[k];
    const std::string id = JsonField(r.data, "id");
    if (r.subject == "juncture.actions.email") action_at.emplace(id, k);
    if (r.subject != "juncture.decisions.instant" || JsonField(r.data, "outcome") != "sent") continue;
    auto action = action_at.find(id);
    EXPECT_NE(action, action_at.end()) << "the decision log line of " << id << " came first";
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<size_t>(kMessages));
  EXPECT_EQ(action_at.size(), static_cast<size_t>(kMessages));
}

TEST_F(ServeFixture, TheExamplesDecideOnTheRightSubjects) {
  StartServe({"--action-msg-id"}, JUNCTURE_EXAMPLES);
  size_t published = 0;
  for (const std::string& line : RecentLines(std::string(JUNCTURE_EXAMPLES) + "/events/demo.jsonl")) {
    ASSERT_TRUE(client_.Publish("juncture.events.demo", line));
    ++published;
  }
  ASSERT_TRUE(client_.Flush());
  ASSERT_GT(published, 40u);
  ASSERT_TRUE(client_.WaitForCount("juncture.deadletter", 3, 10000)) << serve_->Output();
  // Wait until nothing new arrives for half a second.
  size_t seen = 0;
  for (int k = 0; k < 40; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    size_t now = client_.received().size();
    if (now == seen) break;
    seen = now;
  }
  std::set<std::string> journeys, channels, decision_ids;
  size_t sent = 0;
  for (const Received& r : client_.On("juncture.decisions.")) {
    EXPECT_EQ(r.subject, "juncture.decisions." + JsonField(r.data, "journey")) << r.data;
    EXPECT_TRUE(decision_ids.insert(JsonField(r.data, "id")).second) << "ids are unique: " << r.data;
    journeys.insert(JsonField(r.data, "journey"));
    sent += JsonField(r.data, "outcome") == "sent";
  }
  for (const Received& r : client_.On("juncture.actions.")) {
    EXPECT_EQ(r.subject, "juncture.actions." + JsonField(r.data, "channel")) << r.data;
    EXPECT_EQ(JsonField(r.data, "outcome"), "sent") << r.data;
    EXPECT_EQ(r.msg_id, JsonField(r.data, "id")) << "--action-msg-id: the header is its id";
    channels.insert(JsonField(r.data, "channel"));
  }
  EXPECT_EQ(client_.On("juncture.actions.").size(), sent) << "one action per sent decision";
  EXPECT_GE(journeys.size(), 5u) << "most example journeys decided something";
  EXPECT_GE(channels.size(), 2u);
  EXPECT_EQ(client_.On("juncture.deadletter").size(), 3u);
}

TEST_F(ServeFixture, ANatsServerRestartMidStreamKeepsStateAndDeciding) {
  StartServe({});
  PublishCarts("a", 0, 10);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 10, 10000)) << serve_->Output();

  // The ten two-second timers are pending inside serve while the server goes away.
  ASSERT_TRUE(nats_.Restart()) << nats_.process().Output();
  ASSERT_TRUE(serve_->WaitForOutput("reconnected to NATS", 20000)) << serve_->Output();
  // Probe until serve's subscription is back (core NATS drops what no one hears).
  bool answered = false;
  for (int k = 0; k < 100 && !answered; ++k) {
    std::string id = "probe" + std::to_string(k);
    client_.Publish("juncture.events.web", CartJson("probe", id));
    client_.Flush();
    answered = client_.WaitFor(
        [&](const std::vector<Received>& all) {
          for (const Received& r : all) {
            if (JsonField(r.data, "id") == id + ":instant:s1") return true;
          }
          return false;
        },
        200);
  }
  ASSERT_TRUE(answered) << serve_->Output();
  PublishCarts("b", 0, 10);

  // How many of `all` arrived on `subject` for messages whose id starts with `cause`.
  auto count = [](const std::vector<Received>& all, const std::string& subject,
                  const std::string& cause) {
    size_t n = 0;
    for (const Received& r : all) {
      n += r.subject == subject && JsonField(r.data, "cause").rfind(cause, 0) == 0;
    }
    return n;
  };
  bool all_there = client_.WaitFor(
      [&](const std::vector<Received>& all) {
        return count(all, "juncture.actions.email", "b") == 10 &&
               count(all, "juncture.actions.push", "b") == 10 &&
               count(all, "juncture.actions.push", "a") == 10;
      },
      20000);
  auto all = client_.received();
  EXPECT_TRUE(all_there) << "emails b: " << count(all, "juncture.actions.email", "b")
                         << ", pushes a (timers set before the restart): "
                         << count(all, "juncture.actions.push", "a")
                         << ", pushes b: " << count(all, "juncture.actions.push", "b") << "\n"
      << serve_->Output();
}

// A copy of the test program that the test edits.
std::string CopyProgram(const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(TestProgram() + "/shop.jny", dir + "/shop.jny",
                             std::filesystem::copy_options::overwrite_existing);
  return dir;
}

void Rewrite(const std::string& file, const std::string& from, const std::string& to) {
  std::string text;
  {
    std::ifstream in(file);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  std::ofstream(file, std::ios::trunc) << text;
}

TEST_F(ServeFixture, HotReloadOnFileChangeAndSighupAndABadProgramKeepsTheOldOne) {
  std::string program = CopyProgram(dir_.path() + "/program");
  StartServe({}, program);
  auto last_template = [&] {
    auto emails = client_.On("juncture.actions.email");
    return emails.empty() ? std::string() : JsonField(emails.back().data, "template");
  };
  PublishCarts("r", 0, 1);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 1, 10000));
  EXPECT_EQ(last_template(), "cart_seen");

  // An edit is picked up (the file is polled every second).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a distinct mtime
  Rewrite(program + "/shop.jny", "\"cart_seen\"", "\"cart_seen_v2\"");
  ASSERT_TRUE(serve_->WaitForOutput("reloaded:", 15000)) << serve_->Output();
  PublishCarts("r", 1, 2);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 2, 10000));
  EXPECT_EQ(last_template(), "cart_seen_v2");

  // A broken edit: logged, and the running program stays.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Rewrite(program + "/shop.jny", "send email", "send emial");
  ASSERT_TRUE(serve_->WaitForOutput("reload failed", 15000)) << serve_->Output();
  EXPECT_NE(serve_->Output().find("error:"), std::string::npos) << "the diagnostics are logged";
  PublishCarts("r", 2, 3);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 3, 10000)) << serve_->Output();
  EXPECT_EQ(last_template(), "cart_seen_v2");

  // SIGHUP reloads too (here: the fixed program).
  Rewrite(program + "/shop.jny", "send emial", "send email");
  Rewrite(program + "/shop.jny", "\"cart_seen_v2\"", "\"cart_seen_v3\"");
  ::kill(serve_->pid(), SIGHUP);
  ASSERT_TRUE(serve_->WaitForOutput("(SIGHUP)", 10000)) << serve_->Output();
  // The compile runs beside the deciding; wait for its result before publishing.
  auto reloaded_after_sighup = [&] {
    std::string out = serve_->Output();
    return out.find("reloaded:", out.find("(SIGHUP)")) != std::string::npos;
  };
  for (int k = 0; k < 300 && !reloaded_after_sighup(); ++k)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(reloaded_after_sighup()) << serve_->Output();
  bool v3 = false;
  for (int k = 0; k < 50 && !v3; ++k) {
    size_t before = client_.On("juncture.actions.email").size();
    PublishCarts("h" + std::to_string(k) + "-", 0, 1);
    ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", before + 1, 10000));
    v3 = last_template() == "cart_seen_v3";
  }
  EXPECT_TRUE(v3) << serve_->Output();
}

// With the JIT (opt level 2, the default) a program goes live unoptimised (compiled
// several times faster), and the optimised code takes over once ready, at the start
// and after every reload; messages published around both decide, none is lost. With
// --jit-opt 0 there is nothing to optimise.
TEST_F(ServeFixture, AProgramGoesLiveUnoptimisedAndTheOptimisedCodeTakesOver) {
  std::string program = CopyProgram(dir_.path() + "/program");
  StartServe({}, program);
  const auto log_has = [&](const std::string& text, const std::string& after) {
    std::string out = serve_->Output();
    size_t from = after.empty() ? 0 : out.find(after);
    return from != std::string::npos && out.find(text, from) != std::string::npos;
  };
  const auto wait_log = [&](const std::string& text, const std::string& after) {
    for (int k = 0; k < 300 && !log_has(text, after); ++k)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return log_has(text, after);
  };
  ASSERT_TRUE(wait_log("optimised:", "")) << serve_->Output();
  EXPECT_TRUE(log_has("(optimised code)", "deciding on")) << "after the start" << serve_->Output();
  PublishCarts("a", 0, 5);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 5, 10000));

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a distinct mtime
  Rewrite(program + "/shop.jny", "\"cart_seen\"", "\"cart_seen_v2\"");
  ASSERT_TRUE(wait_log("reloaded:", "")) << serve_->Output();
  PublishCarts("b", 0, 5);  // around the optimisation of the new program
  ASSERT_TRUE(wait_log("optimised:", "reloaded:")) << serve_->Output();
  PublishCarts("c", 0, 5);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 15, 10000)) << serve_->Output();
  auto emails = client_.On("juncture.actions.email");
  EXPECT_EQ(JsonField(emails.back().data, "template"), "cart_seen_v2");
  EXPECT_EQ(serve_->Stop(SIGTERM), 0) << serve_->Output();
}

TEST_F(ServeFixture, WithJitOptZeroNothingIsOptimised) {
  StartServe({"--jit-opt", "0"});
  PublishCarts("a", 0, 3);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 3, 10000));
  EXPECT_EQ(serve_->Output().find("optimised:"), std::string::npos) << serve_->Output();
}

// Starts nats-server with `server_args`, then serve with `good` options (it must
// start deciding) and with `bad` ones (it must fail to start, saying it was refused).
void ExpectAuthentication(const std::vector<std::string>& server_args,
                          const std::vector<std::string>& good,
                          const std::vector<std::string>& bad) {
  TempDir dir;
  NatsServer nats;
  ASSERT_TRUE(nats.Start(server_args)) << nats.process().Output();
  auto serve = [&](const std::vector<std::string>& options) {
    std::vector<std::string> argv = {JunctureBin(), "serve", TestProgram(), "--nats", nats.url(),
                                     "--memory-state"};
    argv.insert(argv.end(), options.begin(), options.end());
    return argv;
  };
  Process accepted;
  ASSERT_TRUE(accepted.Start(serve(good), dir.path() + "/good.log"));
  EXPECT_TRUE(accepted.WaitForOutput("deciding on", 30000)) << accepted.Output();
  Process refused;
  ASSERT_TRUE(refused.Start(serve(bad), dir.path() + "/bad.log"));
  refused.Stop(0, 20000);  // it exits by itself
  EXPECT_NE(refused.Output().find("cannot start"), std::string::npos) << refused.Output();
  EXPECT_NE(refused.Output().find("uthoriz"), std::string::npos) << refused.Output();
  accepted.Stop(SIGTERM);
}

// Without a store, idle customers beyond --max-unpacked-customers are packed; their
// timers still fire (unpacking them) and the gauge says how many are packed.
TEST_F(ServeFixture, WithoutAStoreIdleCustomersArePackedAndTheirTimersStillFire) {
  StartServeWithMetrics({"--memory-state", "--max-unpacked-customers", "4"});
  const int metrics_port = metrics_port_;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client_.Publish("juncture.events.web",
                                CartJson("c" + std::to_string(i), "m" + std::to_string(i))));
  }
  ASSERT_TRUE(client_.Flush());
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 20, 10000)) << serve_->Output();
  // The pushes come from timers two seconds later: most of their customers are packed.
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.push", 20, 15000)) << serve_->Output();
  std::set<std::string> customers;
  for (const Received& r : client_.On("juncture.actions.push")) {
    customers.insert(JsonField(r.data, "customer"));
  }
  EXPECT_EQ(customers.size(), 20u);
  const std::string metrics = HttpGet(metrics_port, "/metrics");
  EXPECT_NE(metrics.find("juncture_customers 20\n"), std::string::npos) << metrics;
  const size_t at = metrics.find("\njuncture_customers_packed ");
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::atof(metrics.c_str() + at + 27), 10.0) << metrics.substr(at, 40);
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
}

// Credentials reach NATS.c: a server that wants a user and password (or a token)
// accepts serve with them and refuses it with wrong ones.
TEST(ServeCredentials, UserAndPasswordArePassedToNats) {
  ExpectAuthentication({"--user", "juncture", "--pass", "s3cret"},
                       {"--user", "juncture", "--password", "s3cret"},
                       {"--user", "juncture", "--password", "wrong"});
}

TEST(ServeCredentials, ATokenIsPassedToNats) {
  ExpectAuthentication({"--auth", "t0ken-for-juncture"}, {"--token", "t0ken-for-juncture"},
                       {"--token", "not-the-token"});
}

// A server that speaks only TLS, with a certificate from a CA made here: serve
// connects when given that CA (--tls-ca), and fails to start, saying why, when it
// cannot verify the server's certificate (without --tls-ca).
TEST(ServeCredentials, TlsOptionsArePassedToNats) {
  TempDir dir;
  const std::string d = dir.path();
  std::ofstream(d + "/san.ext") << "subjectAltName=IP:127.0.0.1\n";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string make_certs =
      "cd '" + d + "' && openssl req -x509" + ec +
      " -keyout ca.key -out ca.pem -days 2 -subj /CN=juncture-test-ca"
      " && openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=127.0.0.1"
      " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
      " -out server.pem -days 2 -extfile san.ext";
  ASSERT_EQ(std::system(("(" + make_certs + ") > '" + d + "/certs.log' 2>&1").c_str()), 0)
      << "openssl failed (see " << d << "/certs.log)";
  NatsServer nats;
  ASSERT_TRUE(nats.Start({"--tls", "--tlscert", d + "/server.pem", "--tlskey", d + "/server.key"}))
      << nats.process().Output();
  Process good;
  ASSERT_TRUE(good.Start({JunctureBin(), "serve", TestProgram(), "--nats", nats.url(),
                          "--memory-state", "--tls-ca",
                          d + "/ca.pem"},
                         d + "/good.log"));
  EXPECT_TRUE(good.WaitForOutput("deciding on", 30000)) << good.Output();

  Process unverified;  // TLS, but the test CA is not among the trusted ones
  ASSERT_TRUE(unverified.Start({JunctureBin(), "serve", TestProgram(), "--nats", nats.url(),
                                "--memory-state",
                                "--tls"},
                               d + "/unverified.log"));
  unverified.Stop(0, 20000);
  EXPECT_NE(unverified.Output().find("cannot start"), std::string::npos) << unverified.Output();
  EXPECT_NE(unverified.Output().find("SSL"), std::string::npos) << unverified.Output();
  good.Stop(SIGTERM);
}

// --busy-wait-us: after a round that took 8 messages or more, the loop waits before
// it reads again, so that the next round takes what came meanwhile together; after a
// lighter round it reads again at once. Counted by juncture_rounds_total.
TEST_F(ServeFixture, ABusyRoundWaitsSoTheNextTakesMoreTogetherAndALoneMessageIsReadAtOnce) {
  subscribe_outputs_ = false;
  StartServeWithMetrics({"--busy-wait-us", "20000"});
  ASSERT_EQ(Metric("juncture_rounds_total"), 0);
  // Lone messages 10 ms apart: each is read when it comes, a round of its own. (Were
  // a lone message followed by the wait, each round would take two or three.)
  for (int i = 0; i < 20; ++i) {
    PublishCarts("lone", i, i + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(WaitForMetric("juncture_messages_total", 20, 10000));
  const double lone_rounds = Metric("juncture_rounds_total");
  EXPECT_GE(lone_rounds, 15) << "lone messages were held back";
  // Groups of 16 every 5 ms: each group alone is a busy round; after it the loop
  // waits 20 ms, so a round takes what came in those 20 ms (at most 64): about 10
  // rounds. Without the wait each group is a round or two of its own: 49-64 rounds
  // here. (On a loaded machine a group may come in pieces of fewer than 8, rounds
  // that do not wait: 20 rounds were seen with four copies of this test at once.)
  const auto start = std::chrono::steady_clock::now();
  for (int g = 0; g < 30; ++g) {
    PublishCarts("busy", g * 16, (g + 1) * 16);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double sending_ms = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(WaitForMetric("juncture_messages_total", 20 + 30 * 16, 10000));
  const double busy_rounds = Metric("juncture_rounds_total") - lone_rounds;
  EXPECT_GE(busy_rounds, 30 * 16 / 64.0);
  // Fewer rounds than groups: rounds after busy ones waited and took several groups.
  EXPECT_LT(busy_rounds, 30)
      << "the rounds after busy ones did not wait (" << sending_ms << " ms of sending)";
}

// The wait is skipped when a socket already holds more than half of what NATS.c reads
// at once (32 KB): a backlog of large messages is read round after round. Were it
// not, each 100 ms wait would let one read of about 16 messages of 2 KB through:
// more than 6 s for this burst.
TEST_F(ServeFixture, ABacklogInTheSocketIsReadWithoutWaiting) {
  subscribe_outputs_ = false;
  StartServeWithMetrics({"--busy-wait-us", "100000"});
  const std::string padding(2000, 'x');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    std::string id = "big" + std::to_string(i);
    std::string json = CartJson("c-" + id, id);
    json.insert(json.size() - 2, R"(,"padding":")" + padding + "\"");
    ASSERT_TRUE(client_.Publish("juncture.events.web", json));
  }
  ASSERT_TRUE(client_.Flush());
  ASSERT_TRUE(WaitForMetric("juncture_messages_total", 1000, 30000));
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(ms, 3000) << "the backlog waited " << Metric("juncture_rounds_total") << " rounds";
  // (Decided, not refused: -1 is a series never exported.)
  EXPECT_LE(Metric(R"(juncture_dead_letters_total{reason_kind="invalid_json"})"), 0);
}

// The wait cannot be cut short (by a stop, a reload, a timer): it is bounded.
TEST_F(ServeFixture, ABusyWaitAboveATenthOfASecondIsRefused) {
  std::string output;
  const int status = RunServeToExit({"--busy-wait-us", "100001"}, TestProgram(), &output);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_NE(WEXITSTATUS(status), 0) << output;
  EXPECT_NE(output.find("--busy-wait-us"), std::string::npos) << output;
  EXPECT_NE(RunServeToExit({"--busy-wait-us", "-1"}, TestProgram(), &output), 0) << output;
}

TEST_F(ServeFixture, UnreachableServerFailsToStartWithAReason) {
  Process serve;
  int port = FreePort();
  ASSERT_TRUE(serve.Start({JunctureBin(), "serve", TestProgram(), "--memory-state", "--nats",
                           "nats://127.0.0.1:" + std::to_string(port)},
                          dir_.path() + "/unreachable.log"));
  int status = serve.Stop(0, 20000);  // signal 0: just wait for it to exit
  (void)status;
  ASSERT_TRUE(serve.WaitForOutput("cannot start", 1000)) << serve.Output();
  EXPECT_NE(serve.Output().find("cannot connect"), std::string::npos) << serve.Output();
}

}  // namespace
}  // namespace juncture::itest
