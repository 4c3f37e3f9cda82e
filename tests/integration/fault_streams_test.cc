// `juncture serve --jetstream` on streams that exist already: one that cannot keep
// serve's guarantees refuses the start with a message that says what and why, or is
// repaired with --fix-streams where an update can repair it.
#include <signal.h>

#include "jetstream_fixture.h"

namespace juncture::itest {
namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

class StreamChecks : public JetStreamFixture {
 protected:
  // Starts serve expecting it to refuse: the exit code and the log.
  std::string Refused() {
    std::string out;
    int status = RunServeToExit(JsArgs(), TestProgram(), &out);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << "\n" << out;
    EXPECT_NE(out.find("cannot start: the JetStream streams do not fit"), std::string::npos) << out;
    return out;
  }
};

TEST_F(StreamChecks, AnActionsStreamWithAShortDuplicateWindowIsRefusedOrFixed) {
  ASSERT_TRUE(CreateStream(client_.connection(),
                           {"JUNCTURE_ACTIONS", {"juncture.actions.>"}, 1 * kSecondNs}));
  std::string out = Refused();
  EXPECT_NE(out.find("stream JUNCTURE_ACTIONS remembers message ids for 1s"), std::string::npos)
      << out;
  EXPECT_NE(out.find("--fix-streams"), std::string::npos) << out;

  StartJs({"--fix-streams"});
  EXPECT_EQ(GetStream(client_.connection(), "JUNCTURE_ACTIONS").duplicates_ns, 3600 * kSecondNs);
  EXPECT_NE(serve_->Output().find("fixed: stream JUNCTURE_ACTIONS"), std::string::npos);
  PublishToStream("x", 0, 3);
  EXPECT_TRUE(client_.WaitForCount("juncture.actions.email", 3, 15000)) << serve_->Output();
}

// An actions stream on one channel's subject only: actions on the other channels
// would find no stream.
TEST_F(StreamChecks, AnActionsStreamThatMissesAChannelIsRefusedOrFixed) {
  ASSERT_TRUE(CreateStream(client_.connection(),
                           {"JUNCTURE_ACTIONS", {"juncture.actions.email"}, 3600 * kSecondNs}));
  std::string out = Refused();
  EXPECT_NE(out.find("stream JUNCTURE_ACTIONS has the subjects juncture.actions.email, which do "
                     "not cover juncture.actions.>"),
            std::string::npos)
      << out;

  StartJs({"--fix-streams"});
  EXPECT_EQ(GetStream(client_.connection(), "JUNCTURE_ACTIONS").subjects,
            std::vector<std::string>{"juncture.actions.>"});
  PublishToStream("y", 0, 3);
  // The push two seconds later is stored too (it had no stream before the fix).
  ASSERT_TRUE(WaitForStoredActions(6, 15000)) << serve_->Output();
}

TEST_F(StreamChecks, AnEventsStreamNarrowerThanTheSubjectIsRefusedOrFixed) {
  ASSERT_TRUE(CreateStream(client_.connection(), {"JUNCTURE_EVENTS", {"juncture.events.web"}}));
  std::string out = Refused();
  EXPECT_NE(out.find("stream JUNCTURE_EVENTS has the subjects juncture.events.web, which do not "
                     "cover juncture.events.>"),
            std::string::npos)
      << out;
  StartJs({"--fix-streams"});
  EXPECT_EQ(GetStream(client_.connection(), "JUNCTURE_EVENTS").subjects,
            std::vector<std::string>{"juncture.events.>"});
  ASSERT_TRUE(client_.JsPublish("juncture.events.app", CartJson("c-z", "z0")));
  EXPECT_TRUE(client_.WaitForCount("juncture.actions.email", 1, 15000)) << serve_->Output();
}

// Interest retention cannot be repaired by an update: refused even with --fix-streams.
TEST_F(StreamChecks, AnEventsStreamWithInterestRetentionIsRefusedEvenWithFixStreams) {
  StreamSpec spec{"JUNCTURE_EVENTS", {"juncture.events.>"}};
  spec.retention = js_InterestPolicy;
  ASSERT_TRUE(CreateStream(client_.connection(), spec));
  std::string out;
  std::vector<std::string> args = JsArgs({"--fix-streams"});
  int status = RunServeToExit(args, TestProgram(), &out);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << out;
  EXPECT_NE(out.find("stream JUNCTURE_EVENTS has interest retention"), std::string::npos) << out;
}

// The events stream deleted and created again while serve was stopped: the
// checkpoint's sequence means other messages now. Refused, never guessed.
TEST_F(StreamChecks, AnEventsStreamReplacedSinceTheCheckpointIsRefused) {
  StartJs();
  PublishToStream("r", 0, 5);
  ASSERT_TRUE(WaitForAcked(5, 15000)) << serve_->Output();
  int status = serve_->Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
  ASSERT_TRUE(DeleteStream(client_.connection(), "JUNCTURE_EVENTS"));
  ASSERT_TRUE(CreateStream(client_.connection(), {"JUNCTURE_EVENTS", {"juncture.events.>"}}));
  PublishToStream("s", 0, 7);  // the new stream goes past the checkpoint's sequence
  std::string out;
  status = RunServeToExit(JsArgs(), TestProgram(), &out);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << out;
  EXPECT_NE(out.find("stream JUNCTURE_EVENTS is not the stream of the checkpoint"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace juncture::itest
