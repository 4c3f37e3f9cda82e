// The ingest's pieces on their own (ingest/): reading request bodies into messages
// ready for NATS, gzip with its bound, write keys and Basic authentication. The whole
// path, with the real SDKs and NATS, is tests/ingest/ (ingest.sdks).
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "ingest/body.h"
#include "ingest/messages.h"
#include "ingest/write_keys.h"
#include "juncture/runtime/event.h"

namespace juncture::ingest {
namespace {

int64_t Received() {
  int64_t us = 0;
  runtime::ParseTimestamp("2026-12-03T12:00:00.250Z", us);
  return us;
}

std::string Gzip(const std::string& plain) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, plain.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(IngestMessages, ASingleCallIsCompletedWithWhatThePipelineAdds) {
  ParsedRequest r = ParseRequest(R"({"userId":"c1","event":"cart","properties":{"v":1}})", "track", Received());
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.messages.size(), 1u);
  const ReadyMessage& m = r.messages[0];
  EXPECT_EQ(m.customer, "c1");
  auto j = nlohmann::json::parse(m.json);
  EXPECT_EQ(j["type"], "track");
  EXPECT_EQ(j["receivedAt"], "2026-12-03T12:00:00.250Z");
  EXPECT_EQ(j["timestamp"], "2026-12-03T12:00:00.250Z");  // none given
  ASSERT_TRUE(j["messageId"].is_string());
  EXPECT_EQ(j["messageId"], m.message_id);
  EXPECT_EQ(m.message_id.rfind("ingest-", 0), 0u);
  EXPECT_EQ(m.message_id.size(), 7u + 32u);
  // The same message again: the same id (a retry is deduplicated downstream).
  EXPECT_EQ(ParseRequest(R"({"userId":"c1","event":"cart","properties":{"v":1}})", "track", Received() + 5)
                .messages[0].message_id,
            m.message_id);
  // What is given is kept as given, and not added twice.
  r = ParseRequest(R"({"type":"track","userId":4242,"event":"e","messageId":"m-1",)"
                   R"("originalTimestamp":"2026-12-01T00:00:00Z","receivedAt":"2026-12-01T00:00:01Z"})",
                   "track", Received());
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.messages[0].customer, "4242");
  EXPECT_EQ(r.messages[0].message_id, "m-1");
  j = nlohmann::json::parse(r.messages[0].json);
  EXPECT_EQ(j["receivedAt"], "2026-12-01T00:00:01Z");
  EXPECT_FALSE(j.contains("timestamp"));
}

TEST(IngestMessages, AMemberGivenAsNullIsWrittenOnce) {
  ParsedRequest r = ParseRequest(R"({"type":null,"timestamp":null,"messageId":null,"userId":"u","event":"e"})",
                                 "track", Received());
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  const std::string& json = r.messages[0].json;
  for (const char* key : {"\"type\"", "\"timestamp\"", "\"messageId\""}) {
    size_t first = json.find(key);
    ASSERT_NE(first, std::string::npos) << key;
    EXPECT_EQ(json.find(key, first + 1), std::string::npos) << key << " twice in " << json;
  }
  auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["type"], "track");
  EXPECT_EQ(j["timestamp"], "2026-12-03T12:00:00.250Z");
}

TEST(IngestMessages, ABatchIsTakenWholeOrRefusedWhole) {
  ParsedRequest r = ParseRequest(
      R"({"batch":[{"type":"identify","userId":"a","traits":{}},{"type":"page","anonymousId":"b","name":"P"}],)"
      R"("sentAt":"2026-12-03T12:00:00Z","writeKey":"K"})",
      "batch", Received());
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].customer, "b");
  EXPECT_EQ(r.write_key, "K");
  const std::pair<std::string, std::string> refused[] = {
      {R"({"batch":[{"type":"track","userId":"a"},{"type":"track"}]})", "batch[1]: missing userId and anonymousId"},
      {R"({"batch":[{"userId":"a"}]})", "batch[0]: missing type"},
      {R"({"batch":[{"type":"video","userId":"a"}]})", "batch[0]: type must be one of"},
      {R"({"batch":[7]})", "batch[0]: a message must be a JSON object"},
      {R"({"batch":{}})", "batch must be an array"},
      {R"({})", "missing batch"},
      {R"([1])", "the body must be a JSON object"},
      {R"({"batch":[)", "invalid JSON"},
      {R"({"batch":[{"type":"track","userId":"a","messageId":""}]})", "messageId must be a non-empty string"},
  };
  for (const auto& [body, why] : refused) {
    r = ParseRequest(body, "batch", Received());
    EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << body;
    EXPECT_NE(r.status.message().find(why), std::string::npos)
        << body << ": " << r.status.message();
    EXPECT_TRUE(r.messages.empty()) << body;
  }
  r = ParseRequest(R"({"type":"identify","userId":"a"})", "track", Received());
  EXPECT_EQ(r.status.message(), "type \"identify\" sent to /v1/track");
}

TEST(IngestMessages, SegmentsLimits) {
  std::string big(kMaxMessageBytes, 'x');
  ParsedRequest r = ParseRequest(R"({"userId":"a","event":"e","properties":{"p":")" + big + "\"}}", "track", Received());
  EXPECT_NE(r.status.message().find("larger than 32 KB"), std::string::npos) << r.status.message();
  std::string batch = R"({"batch":[)";
  for (int i = 0; i < 40; ++i) {
    batch += std::string(i ? "," : "") + R"({"type":"track","userId":"a","event":"e","properties":{"p":")" +
             std::string(15000, 'y') + "\"}}";
  }
  batch += "]}";
  r = ParseRequest(batch, "batch", Received());
  EXPECT_NE(r.status.message().find("larger than 500 KB"), std::string::npos) << r.status.message();
}

TEST(IngestBody, GzipIsUncompressedWithinItsBound) {
  const std::string plain = R"({"batch":[]})";
  std::string out;
  std::string gz = Gzip(plain);
  ASSERT_TRUE(LooksGzipped(gz));
  EXPECT_FALSE(LooksGzipped(plain));
  ASSERT_TRUE(Gunzip(gz, kMaxRequestBytes, out).ok());
  EXPECT_EQ(out, plain);
  // Two members one after the other (RFC 1952 allows it).
  ASSERT_TRUE(Gunzip(gz + Gzip(plain), kMaxRequestBytes, out).ok());
  EXPECT_EQ(out, plain + plain);
  // A bomb: 50 MB of zeros in a few KB: refused once past the bound, not uncompressed.
  std::string bomb = Gzip(std::string(50 << 20, '0'));
  ASSERT_LT(bomb.size(), 100'000u);
  Status refused = Gunzip(bomb, kMaxRequestBytes, out);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("500 KB"), std::string::npos) << refused.message();
  EXPECT_LT(out.size(), kMaxRequestBytes + 64 * 1024);
  // Cut short, or garbage after the magic bytes.
  EXPECT_EQ(Gunzip(gz.substr(0, gz.size() - 6), kMaxRequestBytes, out).message(),
            "the body is not valid gzip");
  EXPECT_FALSE(Gunzip(std::string("\x1f\x8b garbage", 10), kMaxRequestBytes, out).ok());
}

TEST(IngestWriteKeys, FileAndBasicAuthentication) {
  std::string path = ::testing::TempDir() + "/write-keys";
  {
    std::ofstream f(path);
    f << "# the shop\n  key-one  \n\nkey-two\r\n";
  }
  Result<WriteKeys> keys = WriteKeys::Load(path);
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_TRUE(keys->Accepts("key-one"));
  EXPECT_TRUE(keys->Accepts("key-two"));
  EXPECT_FALSE(keys->Accepts("key-on"));
  EXPECT_FALSE(keys->Accepts(""));
  {
    std::ofstream f(path);
    f << "# nothing\n";
  }
  Status none = WriteKeys::Load(path).status();
  EXPECT_EQ(none.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.message().find("holds no key"), std::string::npos);
  EXPECT_EQ(WriteKeys::Load(path + ".missing").status().code(), StatusCode::kNotFound);
  std::remove(path.c_str());

  EXPECT_EQ(BasicUser("Basic a2V5LW9uZTo="), "key-one");   // "key-one:"
  EXPECT_EQ(BasicUser("Basic a2V5LW9uZTpwdw=="), "key-one");  // "key-one:pw"
  EXPECT_EQ(BasicUser("Basic a2V5"), "key");                 // no colon at all
  EXPECT_FALSE(BasicUser("Bearer a2V5LW9uZTo="));
  EXPECT_FALSE(BasicUser("Basic !!!!"));
  EXPECT_FALSE(BasicUser("Basic abc"));
  EXPECT_FALSE(BasicUser("Basic "));
}

}  // namespace
}  // namespace juncture::ingest
