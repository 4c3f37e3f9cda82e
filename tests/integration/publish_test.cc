// Partitions (docs/scaling.md): the hash Juncture maps customers to partitions with is
// the one nats-server's subject mapping `{{partition(P, i)}}` computes, checked against
// the real server; `juncture publish` sends each line to its customer's partition with
// Nats-Msg-Id = messageId, and reports bad lines by number without losing the others.
#include <filesystem>
#include <fstream>
#include <map>

#include "juncture/runtime/partition.h"
#include "serve_fixture.h"

namespace juncture::itest {
namespace {

TEST(Partitions, TheHashIsTheOneOfNatsServerSubjectMapping) {
  TempDir dir;
  const std::string conf = dir.path() + "/mapping.conf";
  std::ofstream(conf) << "mappings = {\n"
                         "  \"juncture.in.*\": \"juncture.mapped.{{partition(64,1)}}\"\n"
                         "  \"juncture.in7.*\": \"juncture.mapped7.{{partition(7,1)}}\"\n"
                         "}\n";
  NatsServer nats;
  ASSERT_TRUE(nats.Start({"-c", conf})) << nats.process().Output();
  Client client;
  ASSERT_TRUE(client.Connect(nats.url()));
  ASSERT_TRUE(client.Subscribe("juncture.mapped.*"));
  ASSERT_TRUE(client.Subscribe("juncture.mapped7.*"));
  const int n = 500;
  for (int i = 0; i < n; ++i) {
    // Ids of every shape a subject token allows: digits, dashes, UUID-like, unicode.
    std::string id = i % 3 == 0   ? "customer-" + std::to_string(i * 7919)
                     : i % 3 == 1 ? std::to_string(i) + "f3e2a1b0-9c8d-4e7f"
                                  : "cliente_" + std::to_string(i) + "_\xc3\xa9";
    ASSERT_TRUE(client.Publish("juncture.in." + id, id));
    ASSERT_TRUE(client.Publish("juncture.in7." + id, id));
  }
  ASSERT_TRUE(client.Flush());
  ASSERT_TRUE(client.WaitForCount("juncture.mapped", 2 * n, 10000));
  std::map<uint32_t, int> used;
  for (const Received& r : client.received()) {
    bool seven = r.subject.rfind("juncture.mapped7.", 0) == 0;
    uint32_t server = static_cast<uint32_t>(std::stoul(r.subject.substr(r.subject.rfind('.') + 1)));
    EXPECT_EQ(server, runtime::PartitionOf(r.data, seven ? 7 : 64)) << r.data;
    if (!seven) ++used[server];
  }
  EXPECT_GT(used.size(), 55u) << "500 ids should spread over nearly all 64 partitions";
}

TEST(Partitions, JuncturePublishSendsEachLineToItsPartitionWithItsMessageId) {
  TempDir dir;
  NatsServer nats;
  ASSERT_TRUE(nats.Start()) << nats.process().Output();
  Client client;
  ASSERT_TRUE(client.Connect(nats.url()));
  ASSERT_TRUE(client.Subscribe("juncture.events.p.*"));
  const std::string file = dir.path() + "/events.jsonl";
  {
    std::ofstream out(file);
    for (int i = 0; i < 50; ++i) {
      out << CartJson("shopper " + std::to_string(i) + "@example.com", "m" + std::to_string(i))
          << "\n";
      if (i == 10) out << "not json\n";  // line 12
      if (i == 20) out << R"({"type":"track","event":"cart","messageId":"x"})" << "\n";  // line 23
    }
  }
  Process publish;
  ASSERT_TRUE(publish.Start({JunctureBin(), "publish", file, "--nats", nats.url()},
                            dir.path() + "/publish.log"));
  int status = publish.Stop(0, 20000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << publish.Output();
  EXPECT_NE(publish.Output().find("events.jsonl:12: error: not a JSON object"), std::string::npos)
      << publish.Output();
  EXPECT_NE(publish.Output().find("events.jsonl:23: error: no userId or anonymousId"),
            std::string::npos)
      << publish.Output();
  ASSERT_TRUE(client.WaitForCount("juncture.events.p.", 50, 10000));
  for (const Received& r : client.received()) {
    std::string customer = JsonField(r.data, "userId");
    EXPECT_EQ(r.subject, "juncture.events.p." + std::to_string(runtime::PartitionOf(customer, 64)));
    EXPECT_EQ(r.msg_id, JsonField(r.data, "messageId"));
  }
  EXPECT_EQ(client.received().size(), 50u);
}

}  // namespace
}  // namespace juncture::itest
