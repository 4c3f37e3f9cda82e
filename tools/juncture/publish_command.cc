// juncture publish FILE|- --nats URL [--partitions P] [--prefix SUBJECT] [--jetstream]
// A producer that needs no code: each JSON line (a Segment call: track, identify, ...) is
// published to PREFIX.<partition of its customer> (docs/scaling.md), with header
// Nats-Msg-Id = its messageId, so that JetStream drops a line published twice. A line
// that is not such a message is reported (FILE:LINE: error: ...) and skipped; the
// others still go out; the exit code is then 1.
#include <nats/nats.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "juncture/commands.h"
#include "juncture/runtime/partition.h"

namespace juncture::tools {
namespace {

struct PublishOptions {
  std::string input = "-";
  std::string url = "nats://127.0.0.1:4222";
  uint32_t partitions = runtime::kDefaultPartitions;
  std::string prefix = "juncture.events.p";
  bool jetstream = false;
};

// What a line is published as, or why it cannot be.
struct Addressed {
  std::string error;
  std::string customer, message_id;
};

Addressed Address(const std::string& line) {
  Addressed out;
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object()) {
    out.error = "not a JSON object";
    return out;
  }
  // The engine's own rule, so that the line goes to its customer's partition.
  if (!runtime::CustomerOfMessage(line, &out.customer)) {
    out.error = "no userId or anonymousId (a string or an integer)";
  }
  auto id = j.find("messageId");
  if (out.error.empty() && (id == j.end() || !id->is_string() || id->get_ref<const std::string&>().empty())) {
    out.error = "no messageId (a string): without it a repeated publish cannot be dropped";
  }
  if (out.error.empty()) out.message_id = id->get<std::string>();
  return out;
}

struct NatsDeleter {
  void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};

int RunPublish(const PublishOptions& o) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.input != "-") {
    file.open(o.input, std::ios::binary);
    if (!file) {
      std::cerr << "juncture publish: cannot read " << o.input << "\n";
      return 1;
    }
    in = &file;
  }
  natsConnection* raw = nullptr;
  if (natsStatus s = natsConnection_ConnectTo(&raw, o.url.c_str()); s != NATS_OK) {
    std::cerr << "juncture publish: cannot connect to " << o.url << ": " << natsStatus_GetText(s)
              << "\n";
    return 1;
  }
  std::unique_ptr<natsConnection, NatsDeleter> nc(raw);
  std::unique_ptr<jsCtx, NatsDeleter> js;
  if (o.jetstream) {
    jsCtx* ctx = nullptr;
    if (natsConnection_JetStream(&ctx, nc.get(), nullptr) != NATS_OK) {
      std::cerr << "juncture publish: JetStream is not available on " << o.url << "\n";
      return 1;
    }
    js.reset(ctx);
  }
  const std::string name = o.input == "-" ? "<stdin>" : o.input;
  uint64_t published = 0, bad = 0, failed = 0, number = 0;
  for (std::string line; std::getline(*in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Addressed a = Address(line);
    if (!a.error.empty()) {
      std::cerr << name << ":" << number << ": error: " << a.error << "\n";
      ++bad;
      continue;
    }
    std::string subject =
        o.prefix + "." + std::to_string(runtime::PartitionOf(a.customer, o.partitions));
    natsMsg* m = nullptr;
    natsMsg_Create(&m, subject.c_str(), nullptr, line.data(), static_cast<int>(line.size()));
    std::unique_ptr<natsMsg, NatsDeleter> msg(m);
    natsMsgHeader_Set(m, "Nats-Msg-Id", a.message_id.c_str());
    natsStatus s;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js) {
      jsPubAck* ack = nullptr;
      s = js_PublishMsg(&ack, js.get(), m, nullptr, &code);  // the stream's ack, each
      jsPubAck_Destroy(ack);
    } else {
      s = natsConnection_PublishMsg(nc.get(), m);
    }
    if (s != NATS_OK) {
      std::cerr << name << ":" << number << ": error: not published to " << subject << ": "
                << natsStatus_GetText(s) << (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "")
                << "\n";
      ++failed;
      continue;
    }
    ++published;
  }
  if (natsConnection_FlushTimeout(nc.get(), 10000) != NATS_OK) {
    std::cerr << "juncture publish: the last messages may not have reached " << o.url << "\n";
    ++failed;
  }
  std::cerr << "juncture publish: " << published << " messages published to " << o.prefix
            << ".<0.." << o.partitions - 1 << ">" << (bad ? ", " + std::to_string(bad) + " bad lines skipped" : "")
            << (failed ? ", " + std::to_string(failed) + " not published" : "") << "\n";
  return bad + failed == 0 ? 0 : 1;
}

}  // namespace

Runner AddPublishCommand(CLI::App& cmd) {
  auto o = std::make_shared<PublishOptions>();
  cmd.add_option("input", o->input, "JSON lines of track/identify messages, - for stdin")
      ->capture_default_str();
  cmd.add_option("--nats", o->url, "NATS server URL")->capture_default_str();
  cmd.add_option("--partitions", o->partitions, "partitions of the deployment")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 16));
  cmd.add_option("--prefix", o->prefix, "subjects: PREFIX.<partition>")->capture_default_str();
  cmd.add_flag("--jetstream", o->jetstream,
               "wait for the stream's acknowledgement of every message");
  return [o] { return RunPublish(*o); };
}

}  // namespace juncture::tools
