// juncture-load: end-to-end load and latency test of `juncture serve` over NATS.
//
//   journeys (default)  identify --customers customers, then publish Segment `track`
//                       messages to juncture.events.track at --rate per second and time
//                       each action that comes back on juncture.actions.> against the
//                       publish of the message named by its `cause`.
//   echo                the floor: the same publisher and subscriber, but an echo
//                       responder in this process (on its own connection) republishes
//                       each event unchanged to an action subject. Two NATS hops, like
//                       event -> serve -> action, with no decision in between.
//   jetstream-echo      the floor of `serve --jetstream`: the events go into a stream
//                       (JUNCTURE_LOAD_ECHO, file storage, made afresh), and the
//                       responder takes them with serve's own parts, the way serve
//                       does with one shard: one thread, an event loop, pull requests
//                       kept open, each message published into a stream of actions
//                       (JUNCTURE_LOAD_ECHO_ACTIONS, as serve stores its actions; its
//                       acknowledgements read on the loop) and acked, the same linger.
//                       No decision, no state, no checkpoint.
//   --events FILE       publish the messages of a JSON-lines file instead and, with
//                       --print, show every action, decision and dead letter that comes
//                       back (a demo); --restamp makes them live (timestamp = now).
//
// Its companion juncture-deliver (deliver.cc) plays the channels' delivery services:
// it answers actions with delivery receipts.
//
// Every time is taken from one monotonic clock in this process, so a latency is
// receive time - publish time with no clock skew. Publishing follows an absolute
// schedule (message i is due at start + i/rate): a late wake-up is caught up by the
// next messages instead of drifting the rate down.
#include <nats/nats.h>
#include <simdjson.h>
#include <sys/prctl.h>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "serve/nats_free.h"
#include "serve/nats_loop.h"
#include "serve/nats_raw.h"
#include "serve/pull_consumer.h"
#include "wall_time.h"

namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void SleepUntilNs(int64_t deadline) {
  timespec ts{static_cast<time_t>(deadline / 1'000'000'000),
              static_cast<long>(deadline % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// WallTimestamp() (wall_time.h): the Segment `timestamp` of the messages. serve
// decides on its own wall clock; the timestamp only has to be plausible.

struct Options {
  std::string mode = "journeys";
  std::string url = "nats://127.0.0.1:4222";
  double rate = 1000;      // messages per second; 0 = as fast as possible
  double duration = 5;     // measured seconds
  double warmup = 1;       // seconds at the same rate before, not measured
  int customers = 1000;
  std::string subject;     // where events go (default by mode)
  std::string actions;     // what to subscribe for actions (default by mode)
  std::string event_name = "load_tick";
  std::string traits = R"({"country":"US","load_opt_in":true,"tier":"standard","lifetime_value":120.0})";
  std::string events_file;
  bool restamp = false;  // --events: each message's timestamp becomes its publish time
  std::string events_prefix = "juncture.events";  // --events: subject = prefix.<type>
  std::string decisions = "juncture.decisions.>";
  std::string deadletter = "juncture.deadletter";
  bool print = false;
  int settle_ms = 1000;       // wait this long after the last publish for replies
  int ready_timeout_s = 20;   // for the first probe reply
  int slow_us = 1000;         // replies slower than this are counted (the 1 ms target)
  int serve_pid = 0;          // report this process's CPU time per event
  std::string serve_metrics;  // HOST:PORT of serve's metrics: what its store wrote per event
  std::string json_out;       // append the result as one JSON line here
  std::string label;          // copied into the JSON line
};

// An owned NATS connection; SendAsap because a publish must not sit in the client's
// buffer until NATS.c's flusher thread runs (~1 ms per hop otherwise).
struct Connection {
  natsConnection* nc = nullptr;
  Connection(const std::string& url, const char* name) {
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, url.c_str());
    natsOptions_SetName(o, name);
    natsOptions_SetSendAsap(o, true);
    natsStatus s = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) {
      fprintf(stderr, "juncture-load: cannot connect to %s: %s\n", url.c_str(),
              natsStatus_GetText(s));
      exit(1);
    }
  }
  ~Connection() { natsConnection_Destroy(nc); }
  void Publish(const std::string& subject, std::string_view data) {
    natsStatus s = natsConnection_Publish(nc, subject.c_str(), data.data(),
                                          static_cast<int>(data.size()));
    if (s != NATS_OK) fprintf(stderr, "juncture-load: publish: %s\n", natsStatus_GetText(s));
  }
  natsSubscription* Subscribe(const std::string& subject, natsMsgHandler cb, void* closure) {
    natsSubscription* sub = nullptr;
    natsStatus s = natsConnection_Subscribe(&sub, nc, subject.c_str(), cb, closure);
    if (s != NATS_OK) {
      fprintf(stderr, "juncture-load: subscribe %s: %s\n", subject.c_str(), natsStatus_GetText(s));
      exit(1);
    }
    // A burst waits in the client instead of being dropped as a slow consumer.
    natsSubscription_SetPendingLimits(sub, 1 << 22, 1 << 30);
    natsConnection_Flush(nc);  // the subscription is live at the server
    return sub;
  }
};

// Reads one top-level string field of a JSON message. Callbacks run on several NATS.c
// threads, hence one parser per thread.
bool StringField(std::string_view json, const char* field, std::string* out) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  std::string_view value;
  if (parser.iterate(padded).get(doc) || doc.find_field_unordered(field).get_string().get(value))
    return false;
  out->assign(value);
  return true;
}

// Shared by the publisher (main thread) and the reply callbacks (NATS.c threads).
struct Run {
  Options opt;
  std::string id;                     // messageIds "<id>-<seq>", probes "<id>-p<gen>.<k>"
  std::string cause_field;            // "cause" (an action) or "messageId" (an echo)
  std::vector<std::atomic<int64_t>> published_ns;  // by seq; 0 = not yet published
  std::vector<int64_t> latency_ns;    // by seq; -1 = no reply yet
  std::atomic<int64_t> duplicates{0}, foreign{0}, probe_generation{0}, probe_answered{0};
  std::mutex mu;                      // latency_ns, print output, by_message_id
  std::unordered_map<std::string, int64_t> by_message_id;  // --events: publish times

  // The measured run's reply for one action (or echo).
  void OnReply(std::string_view data, int64_t received) {
    std::string cause;
    if (!StringField(data, cause_field.c_str(), &cause) || cause.size() <= id.size() + 1 ||
        cause.compare(0, id.size(), id) != 0 || cause[id.size()] != '-') {
      foreign.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const char* num = cause.c_str() + id.size() + 1;
    if (*num == 'p') {  // "p<generation>.<k>": a Probe call waits for its generation
      int64_t generation = strtoll(num + 1, nullptr, 10);
      int64_t seen = probe_answered.load();
      while (generation > seen && !probe_answered.compare_exchange_weak(seen, generation)) {
      }
      return;
    }
    char* end = nullptr;
    uint64_t seq = strtoull(num, &end, 10);
    int64_t sent = seq < published_ns.size() ? published_ns[seq].load(std::memory_order_acquire) : 0;
    if (*end != '\0' || sent == 0) {
      foreign.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    if (latency_ns[seq] >= 0) {
      duplicates.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    latency_ns[seq] = received - sent;
  }

  // --print: one line per message received, with its latency when its cause is known.
  void PrintReply(natsMsg* msg, int64_t received) {
    std::string_view data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    std::string cause, error;
    const char* header = nullptr;
    if (natsMsgHeader_Get(msg, "Juncture-Error", &header) == NATS_OK && header)
      error = std::string(" [") + header + "]";
    // A dead letter is the raw message: its own messageId names it.
    bool have_cause = StringField(data, cause_field.c_str(), &cause) ||
                      StringField(data, "messageId", &cause);
    std::lock_guard<std::mutex> lock(mu);
    char when[32] = "          ";
    if (have_cause) {
      auto it = by_message_id.find(cause);
      if (it != by_message_id.end())
        snprintf(when, sizeof when, "+%7" PRId64 "us", (received - it->second) / 1000);
    }
    printf("%s %s%s %.*s\n", when, natsMsg_GetSubject(msg), error.c_str(),
           static_cast<int>(data.size()), data.data());
    fflush(stdout);
  }
};

void OnAction(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  int64_t received = NowNs();  // first: parsing is not part of the latency
  auto* run = static_cast<Run*>(closure);
  if (run->opt.print) run->PrintReply(msg, received);
  run->OnReply({natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))},
               received);
  natsMsg_Destroy(msg);
}

void OnPrintOnly(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  static_cast<Run*>(closure)->PrintReply(msg, NowNs());
  natsMsg_Destroy(msg);
}

// The echo responder: what serve would do, minus the decision.
struct Echo {
  Connection* conn;
  std::string subject;
};
void OnEcho(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* echo = static_cast<Echo*>(closure);
  echo->conn->Publish(echo->subject,
                      {natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))});
  natsMsg_Destroy(msg);
}

// The JetStream echo responder: the floor of `serve --jetstream` with one shard, made
// of serve's own parts and run the way serve runs them, minus deciding, state and
// checkpoints. One thread drives a connection through an event loop
// (serve/nats_loop.h) and speaks JetStream's pull protocol on it
// (serve/pull_consumer.h: between one and two batches of 256 always asked for); each
// round it publishes every message taken into the actions stream, with a Nats-Msg-Id
// (serve/nats_raw.h) and a reply subject on an inbox of its own (the stream's acknowledgements come back there and
// are read on the loop, as serve reads them), acks the message, frees what it took
// in place (serve/nats_free.h) and writes the round in one write. After a round of
// fewer than 16 messages it sleeps `linger_us`, as serve does by default.
struct JetStreamEcho {
  std::string subject;  // where the echoes go
  natsConnection* setup = nullptr;  // streams and consumer (blocking calls)
  jsCtx* js = nullptr;
  natsConnection* nc = nullptr;  // the loop's
  std::unique_ptr<juncture::serve::NatsLoop> loop;
  std::unique_ptr<juncture::serve::PullConsumer> pull;
  natsSubscription* acks = nullptr;  // the actions stream's acknowledgements
  std::string ack_inbox;
  int64_t linger_us = 200;
  uint64_t acked = 0, published = 0;
  std::atomic<bool> stop{false};
  std::thread thread;

  static constexpr const char* kStream = "JUNCTURE_LOAD_ECHO";
  static constexpr const char* kActionsStream = "JUNCTURE_LOAD_ECHO_ACTIONS";
  static constexpr const char* kDurable = "load-echo";

  // Makes the streams afresh (events on `events`, actions on `to`) and the consumer on
  // `c` (which must outlive this), then connects the loop's connection to `url`;
  // false (with a message) if the server has no JetStream.
  bool Start(Connection* c, const std::string& url, const std::string& events, std::string to) {
    setup = c->nc;
    subject = std::move(to);
    if (natsConnection_JetStream(&js, setup, nullptr) != NATS_OK) return Fail("no JetStream context");
    if (!MakeStream(kStream, events) || !MakeStream(kActionsStream, subject)) return false;
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = kDurable;
    cc.AckPolicy = js_AckExplicit;
    cc.MaxAckPending = 1 << 20;  // as serve's consumer
    cc.FilterSubject = events.c_str();
    jsConsumerInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_AddConsumer(&info, js, kStream, &cc, nullptr, &code) != NATS_OK) {
      return Fail("cannot create the consumer on " + std::string(kStream));
    }
    jsConsumerInfo_Destroy(info);
    auto made = juncture::serve::NatsLoop::Create();
    if (!made.ok()) return Fail(made.status().message());
    loop = *std::move(made);
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    natsOptions_SetURL(o, url.c_str());
    natsOptions_SetName(o, "juncture-load-jetstream-echo");
    natsOptions_SetSendAsap(o, true);  // as serve: the loop's Flush writes a round at once
    loop->Use(o);
    natsStatus s = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    if (s != NATS_OK) return Fail("cannot connect the responder's connection");
    natsInbox* inbox = nullptr;
    natsInbox_Create(&inbox);
    ack_inbox = inbox;
    natsInbox_Destroy(inbox);
    if (natsConnection_SubscribeSync(&acks, nc, (ack_inbox + ".*").c_str()) != NATS_OK) {
      return Fail("cannot subscribe to the acknowledgements' inbox");
    }
    natsSubscription_SetPendingLimits(acks, -1, -1);
    auto pulled = juncture::serve::PullConsumer::Create(nc, kStream, kDurable, 256, 1000);
    if (!pulled.ok()) return Fail(pulled.status().message());
    pull = *std::move(pulled);
    thread = std::thread([this] { Loop(); });
    return true;
  }
  static int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void Loop() {
    loop->BindToThisThread();
    std::vector<natsMsg*> batch, done;
    std::string reply, id;
    int64_t wait_us = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      loop->Poll(wait_us);
      const int64_t now_ns = NowNs();
      pull->TakeAnswers();
      for (natsMsg* a = nullptr; natsSubscription_NextMsg(&a, acks, 0) == NATS_OK; a = nullptr) {
        ++acked;
        done.push_back(a);
      }
      const bool more = pull->Take(256, &batch, now_ns);
      const size_t taken = batch.size();
      for (natsMsg* m : batch) {
        // With a Nats-Msg-Id, as serve's actions: the stream's deduplication is part of
        // what it costs.
        reply = ack_inbox + "." + std::to_string(++published);
        id = "load-echo-" + std::to_string(published);
        natsMsg* action = nullptr;
        if (juncture::serve::CreateMessageWithHeader(
                &action, subject.c_str(), reply.c_str(), "Nats-Msg-Id", id,
                {natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m))}) == NATS_OK) {
          natsConnection_PublishMsg(nc, action);
          done.push_back(action);
        }
        pull->Ack(m);
        done.push_back(m);
      }
      batch.clear();
      juncture::serve::DestroyMessages(done);
      done.clear();
      (void)pull->Ask(NowNs());  // a refused request is retried by the next round
      loop->Flush();
      if (more) {
        wait_us = 0;
      } else if (linger_us > 0 && taken > 0 && taken < 16) {
        std::this_thread::sleep_for(std::chrono::microseconds(linger_us));
        wait_us = 0;
      } else {
        int64_t until_ns = now_ns + 100'000'000;
        if (int64_t lost = pull->request_deadline_ns(); lost != 0) until_ns = std::min(until_ns, lost);
        wait_us = std::max<int64_t>((until_ns - NowNs()) / 1000, 0);
      }
    }
    // What was published last leaves before the loop stops.
    loop->Flush();
  }
  ~JetStreamEcho() {
    stop = true;
    if (loop) loop->Wake();
    if (thread.joinable()) thread.join();
    pull.reset();
    if (acks != nullptr) natsSubscription_Destroy(acks);
    if (nc != nullptr) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
    if (js != nullptr) {
      jsErrCode code = static_cast<jsErrCode>(0);
      js_DeleteStream(js, kStream, nullptr, &code);
      js_DeleteStream(js, kActionsStream, nullptr, &code);
      jsCtx_Destroy(js);
    }
  }
  bool MakeStream(const char* name, const std::string& on) {
    jsErrCode code = static_cast<jsErrCode>(0);
    js_DeleteStream(js, name, nullptr, &code);  // a previous run's, if any
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name;
    const char* subjects[] = {on.c_str()};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    jsStreamInfo* info = nullptr;
    if (js_AddStream(&info, js, &cfg, nullptr, &code) != NATS_OK) {
      return Fail("cannot create stream " + std::string(name) + " on " + on + " (is JetStream on?)");
    }
    jsStreamInfo_Destroy(info);
    return true;
  }
  static bool Fail(const std::string& what) {
    fprintf(stderr, "juncture-load: jetstream-echo: %s\n", what.c_str());
    return false;
  }
};

std::string CustomerId(int64_t i) { return "load-c" + std::to_string(i); }

std::string TrackMessage(const Options& o, const std::string& message_id, int64_t customer,
                         int64_t seq) {
  // ~190 bytes, like a small real track event. `value` stays below 100 (the decoys of
  // bench/load/program test for more).
  char props[128];
  snprintf(props, sizeof props, R"({"seq":%)" PRId64 R"(,"value":%.1f,"path":"/load/tick"})", seq,
           static_cast<double>(seq % 997) / 10.0);
  return R"({"type":"track","event":")" + o.event_name + R"(","messageId":")" + message_id +
         R"(","userId":")" + CustomerId(customer) + R"(","timestamp":")" + WallTimestamp() +
         R"(","properties":)" + props + "}";
}

std::string IdentifyMessage(const Options& o, const std::string& message_id, int64_t customer) {
  return R"({"type":"identify","messageId":")" + message_id + R"(","userId":")" +
         CustomerId(customer) + R"(","timestamp":")" + WallTimestamp() + R"(","traits":)" +
         o.traits + "}";
}

// Publishes probes (customer 0) until one comes back: serve is up, subscribed, and has
// decided everything published before (NATS keeps one publisher's order per subscriber).
bool Probe(Run& run, Connection& pub, int timeout_s) {
  int64_t deadline = NowNs() + int64_t{timeout_s} * 1'000'000'000;
  // A new generation, so that a straggling reply to an earlier probe does not count.
  const int64_t generation = ++run.probe_generation;
  for (int k = 0; NowNs() < deadline; ++k) {
    std::string name = std::to_string(generation) + "." + std::to_string(k);
    if (run.opt.mode == "journeys")  // the probe's customer must be eligible, even if
      pub.Publish(run.opt.events_prefix + ".identify",  // serve missed the identifies
                  IdentifyMessage(run.opt, run.id + "-i" + name, 0));
    pub.Publish(run.opt.subject, TrackMessage(run.opt, run.id + "-p" + name, 0, 0));
    for (int i = 0; i < 50 && NowNs() < deadline; ++i) {
      if (run.probe_answered.load() >= generation) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return false;
}

// User + system CPU seconds of a process (0 if pid <= 0 or unreadable).
double ProcessCpuSeconds(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// serve's state-store counters, read from its Prometheus metrics (--serve-metrics):
// each summed over its labels. `ok` is false if serve did not answer.
struct StoreCounters {
  bool ok = false;
  double messages = 0, commits = 0, bytes = 0;
};

StoreCounters ReadStoreCounters(const std::string& address) {
  StoreCounters c;
  if (address.empty()) return c;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return c;
  httplib::Client client(address.substr(0, colon), std::atoi(address.c_str() + colon + 1));
  client.set_read_timeout(5, 0);
  httplib::Result res = client.Get("/metrics");
  if (!res || res->status != 200) return c;
  std::istringstream lines(res->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t name_end = line.find_first_of("{ ");
    const size_t value_at = line.rfind(' ');
    if (name_end == std::string::npos || value_at == std::string::npos) continue;
    const std::string_view name(line.data(), name_end);
    const double value = std::atof(line.c_str() + value_at + 1);
    if (name == "juncture_messages_total") c.messages += value;
    if (name == "juncture_checkpoints_total") c.commits += value;
    if (name == "juncture_state_bytes_written_total") c.bytes += value;
  }
  c.ok = true;
  return c;
}

int64_t Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return -1;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()) - 1e-9));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// --restamp: the message's "timestamp" value replaced by `now` (a recorded stream
// replayed as live traffic, so that signal -> decision is measured from now). A line
// without one is left alone.
void Restamp(std::string& line, const std::string& now) {
  const std::string key = "\"timestamp\":\"";
  size_t at = line.find(key);
  if (at == std::string::npos) return;
  at += key.size();
  size_t end = line.find('"', at);
  if (end != std::string::npos) line.replace(at, end - at, now);
}

// --events FILE: publish the file's messages (paced by --rate, or as fast as possible)
// and print what comes back.
int PublishFile(Run& run, Connection& pub) {
  std::ifstream in(run.opt.events_file);
  if (!in) {
    fprintf(stderr, "juncture-load: cannot read %s\n", run.opt.events_file.c_str());
    return 1;
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  const int64_t interval = run.opt.rate > 0 ? static_cast<int64_t>(1e9 / run.opt.rate) : 0;
  const int64_t start = NowNs();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (interval) SleepUntilNs(start + static_cast<int64_t>(i) * interval);
    std::string type = "track", message_id;
    StringField(lines[i], "type", &type);  // undecodable lines go out as `track`: serve
    StringField(lines[i], "messageId", &message_id);  // dead-letters them
    if (run.opt.restamp) Restamp(lines[i], WallTimestamp());
    {
      std::lock_guard<std::mutex> lock(run.mu);
      if (!message_id.empty()) run.by_message_id[message_id] = NowNs();
    }
    pub.Publish(run.opt.mode == "echo" ? run.opt.subject : run.opt.events_prefix + "." + type,
                lines[i]);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(run.opt.settle_ms));
  std::lock_guard<std::mutex> lock(run.mu);
  fprintf(stderr, "juncture-load: published %zu messages from %s\n", lines.size(),
          run.opt.events_file.c_str());
  return 0;
}

int Measure(Run& run, Connection& pub, natsSubscription* actions_sub) {
  const Options& o = run.opt;
  const int64_t warmup_n = std::llround(o.rate * o.warmup);
  const int64_t measured_n = std::llround(o.rate * o.duration);
  const int64_t total = warmup_n + measured_n;
  run.published_ns = std::vector<std::atomic<int64_t>>(static_cast<size_t>(total));
  run.latency_ns.assign(static_cast<size_t>(total), -1);

  // Every message is built before the clock starts: building is not publishing.
  std::vector<std::string> messages(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i)
    messages[i] = TrackMessage(o, run.id + "-" + std::to_string(i), i % o.customers, i);

  const double interval_ns = 1e9 / o.rate;
  std::vector<int64_t> lag_ns(static_cast<size_t>(measured_n));  // publish - schedule
  const int64_t start = NowNs() + 1'000'000;
  int64_t measured_start = 0, measured_end = 0;
  // serve is idle here (the probe before came back): its CPU time from now to the end
  // of the drain is the cost of the run's messages, even if it fell behind.
  const double serve_cpu_start = ProcessCpuSeconds(o.serve_pid);
  const StoreCounters store_start = ReadStoreCounters(o.serve_metrics);
  for (int64_t i = 0; i < total; ++i) {
    int64_t due = start + static_cast<int64_t>(static_cast<double>(i) * interval_ns);
    if (NowNs() < due) SleepUntilNs(due);
    int64_t now = NowNs();
    run.published_ns[i].store(now, std::memory_order_release);
    pub.Publish(o.subject, messages[i]);
    if (i >= warmup_n) {
      if (i == warmup_n) measured_start = now;
      measured_end = now;
      lag_ns[i - warmup_n] = now - due;
    }
  }
  const double elapsed_s = static_cast<double>(measured_end - measured_start) * 1e-9;

  // Replies that come within --settle ms of the last publish are in time, later ones late.
  const int64_t settle_deadline = NowNs() + int64_t{o.settle_ms} * 1'000'000;
  auto measured_replies = [&] {
    std::lock_guard<std::mutex> lock(run.mu);
    return std::count_if(run.latency_ns.begin() + warmup_n, run.latency_ns.end(),
                         [](int64_t l) { return l >= 0; });
  };
  while (NowNs() < settle_deadline && measured_replies() < measured_n)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int64_t in_time = measured_replies();
  // Drain: the reply to a probe published now comes after every reply of the run (one
  // publisher, one subscription on the other side, one connection back: NATS keeps the
  // order), so what has not come by then is lost. It also leaves serve idle for the next run.
  const bool drained = Probe(run, pub, o.ready_timeout_s);
  const double serve_cpu_s = ProcessCpuSeconds(o.serve_pid) - serve_cpu_start;
  const StoreCounters store_end = ReadStoreCounters(o.serve_metrics);

  std::vector<int64_t> lat;
  int64_t slow = 0;
  {
    std::lock_guard<std::mutex> lock(run.mu);
    for (int64_t i = warmup_n; i < total; ++i)
      if (run.latency_ns[i] >= 0) {
        lat.push_back(run.latency_ns[i]);
        if (run.latency_ns[i] > int64_t{o.slow_us} * 1000) ++slow;
      }
  }
  std::sort(lat.begin(), lat.end());
  std::sort(lag_ns.begin(), lag_ns.end());
  int64_t dropped = 0;
  natsSubscription_GetDropped(actions_sub, &dropped);
  const int64_t received = static_cast<int64_t>(lat.size());
  auto us = [](int64_t ns) { return ns < 0 ? -1.0 : std::round(static_cast<double>(ns) / 100.0) / 10.0; };

  nlohmann::ordered_json r;
  r["label"] = o.label;
  r["mode"] = o.mode;
  r["at"] = WallTimestamp();
  r["rate"] = o.rate;
  r["achieved_rate"] = elapsed_s > 0 ? std::round(static_cast<double>(measured_n - 1) / elapsed_s) : 0;
  r["duration_s"] = o.duration;
  r["warmup_s"] = o.warmup;
  r["customers"] = o.customers;
  r["sent"] = measured_n;
  r["received"] = received;
  r["late"] = received - in_time;  // after --settle, before the drain probe
  r["lost"] = measured_n - received;
  r["drained"] = drained;
  r["duplicates"] = run.duplicates.load();
  r["dropped"] = dropped;  // by this client as a slow consumer
  r["slow_us"] = o.slow_us;
  r["slow"] = slow;        // replies slower than slow_us
  r["p50_us"] = us(Percentile(lat, 0.50));
  r["p99_us"] = us(Percentile(lat, 0.99));
  r["p999_us"] = us(Percentile(lat, 0.999));
  r["max_us"] = us(lat.empty() ? -1 : lat.back());
  r["publish_lag_p99_us"] = us(Percentile(lag_ns, 0.99));
  r["publish_lag_max_us"] = us(lag_ns.empty() ? -1 : lag_ns.back());
  if (o.serve_pid > 0 && o.mode == "journeys")  // warmup and measured events, 1 probe
    r["serve_cpu_us_per_event"] = std::round(serve_cpu_s * 1e7 / static_cast<double>(total)) / 10.0;
  if (store_start.ok && store_end.ok && o.mode == "journeys") {
    // The same window as the CPU's: what serve's state store wrote for the run's
    // messages, and how many messages each of its commits (checkpoints) covered.
    const double messages = store_end.messages - store_start.messages;
    const double commits = store_end.commits - store_start.commits;
    if (messages > 0) {
      r["store_bytes_per_event"] = std::round((store_end.bytes - store_start.bytes) / messages);
    }
    if (commits > 0) r["events_per_commit"] = std::round(messages / commits * 10) / 10.0;
  }

  printf("juncture-load %s: rate %.0f/s (achieved %.0f/s), %d customers, %g s + %g s warmup\n",
         o.mode.c_str(), o.rate, r["achieved_rate"].get<double>(), o.customers, o.duration,
         o.warmup);
  printf("  sent %" PRId64 ", replies %" PRId64 " (late %" PRId64 "), lost %" PRId64
         "%s, over %d us %" PRId64 ", duplicates %" PRId64 ", other %" PRId64
         ", dropped %" PRId64 "\n",
         measured_n, received, received - in_time, measured_n - received,
         drained ? "" : " (not drained)", o.slow_us, slow, run.duplicates.load(),
         run.foreign.load(), dropped);
  printf("  event->action latency: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us\n",
         r["p50_us"].get<double>(), r["p99_us"].get<double>(), r["p999_us"].get<double>(),
         r["max_us"].get<double>());
  printf("  publisher behind schedule: p99 %.0f us, max %.0f us\n",
         r["publish_lag_p99_us"].get<double>(), r["publish_lag_max_us"].get<double>());
  if (r.contains("serve_cpu_us_per_event"))
    printf("  serve CPU: %.1f us per event\n", r["serve_cpu_us_per_event"].get<double>());
  if (r.contains("store_bytes_per_event") && r.contains("events_per_commit"))
    printf("  serve's store: %.0f bytes written per event, %.1f events per commit\n",
           r["store_bytes_per_event"].get<double>(), r["events_per_commit"].get<double>());
  fflush(stdout);

  if (!o.json_out.empty()) {
    std::ofstream out(o.json_out, std::ios::app);
    out << r.dump() << "\n";
    if (!out) {
      fprintf(stderr, "juncture-load: cannot append to %s\n", o.json_out.c_str());
      return 1;
    }
  }
  return received == measured_n ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  Options& o = run.opt;
  CLI::App app{"juncture-load: event->action latency of `juncture serve` (or of an echo floor) over NATS"};
  app.add_option("--mode", o.mode,
                 "journeys (juncture serve), echo (in-tool responder: the floor) or jetstream-echo "
                 "(the same through a JetStream stream and pull consumer: the floor of serve --jetstream)")
      ->check(CLI::IsMember({"journeys", "echo", "jetstream-echo"}))->capture_default_str();
  app.add_option("--nats", o.url, "NATS server URL")->capture_default_str();
  app.add_option("--rate", o.rate, "messages per second (--events: 0 = as fast as possible)")
      ->capture_default_str();
  app.add_option("--duration", o.duration, "measured seconds")->capture_default_str();
  app.add_option("--warmup", o.warmup, "seconds at the same rate before measuring")->capture_default_str();
  app.add_option("--customers", o.customers, "customers the events rotate over")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--subject", o.subject,
                 "event subject (default juncture.events.track; echo: juncture-load.echo.events)");
  app.add_option("--actions", o.actions,
                 "action subscription (default juncture.actions.>; echo: juncture-load.echo.actions.>)");
  app.add_option("--event-name", o.event_name, "the track event's name")->capture_default_str();
  app.add_option("--traits", o.traits, "identify traits (JSON) that make the journeys eligible")
      ->capture_default_str();
  app.add_option("--events", o.events_file, "publish this JSON-lines file instead (to <prefix>.<type>)");
  app.add_flag("--restamp", o.restamp,
               "--events: give each message its publish time as its timestamp (live traffic)");
  app.add_option("--events-prefix", o.events_prefix, "subject prefix for --events and identify")
      ->capture_default_str();
  app.add_flag("--print", o.print, "print every action, decision and dead letter received");
  app.add_option("--settle", o.settle_ms, "ms to wait for replies after the last publish")
      ->capture_default_str();
  app.add_option("--ready-timeout", o.ready_timeout_s, "seconds to wait for the first probe reply")
      ->capture_default_str();
  app.add_option("--slow-us", o.slow_us, "count the replies slower than this")
      ->capture_default_str();
  app.add_option("--serve-pid", o.serve_pid, "report this process's (serve's) CPU time per event");
  app.add_option("--serve-metrics", o.serve_metrics,
                 "HOST:PORT of serve's --metrics: report what its state store wrote per event");
  app.add_option("--json", o.json_out, "append the result as one JSON line to this file");
  app.add_option("--label", o.label, "a label copied into the JSON line");
  CLI11_PARSE(app, argc, argv);
  const bool jetstream_echo = o.mode == "jetstream-echo";
  const bool echo = o.mode == "echo" || jetstream_echo;
  if (o.subject.empty()) o.subject = echo ? "juncture-load.echo.events" : o.events_prefix + ".track";
  if (o.actions.empty()) o.actions = echo ? "juncture-load.echo.actions.>" : "juncture.actions.>";
  if (o.events_file.empty() && (o.rate <= 0 || o.duration <= 0)) {
    fprintf(stderr, "juncture-load: --rate and --duration must be positive\n");
    return 2;
  }
  // The default 50 us timer slack would add up to 50 us to every paced wake-up.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

  std::random_device rd;
  char id[16];
  snprintf(id, sizeof id, "ld%06x", rd() & 0xffffff);  // this run's messageId prefix
  run.id = id;
  run.cause_field = echo ? "messageId" : "cause";

  int rc = 0;
  {
    // One connection each for the publisher, the subscriber and (echo) the responder,
    // so that no hop shares a socket with another.
    Connection pub(o.url, "juncture-load-pub");
    Connection sub(o.url, "juncture-load-sub");
    std::unique_ptr<Connection> echo_conn;
    Echo echo_state;
    JetStreamEcho jetstream_echo_state;
    std::vector<natsSubscription*> extra;
    if (echo) {
      echo_conn = std::make_unique<Connection>(o.url, "juncture-load-echo");
      // Replies go to <actions prefix>.load, like serve's actions on channel `load`.
      std::string to = o.actions;
      if (!to.empty() && to.back() == '>') to = to.substr(0, to.size() - 1) + "load";
      if (jetstream_echo) {
        if (!jetstream_echo_state.Start(echo_conn.get(), o.url, o.subject, to)) return 1;
      } else {
        echo_state = {echo_conn.get(), to};
        extra.push_back(echo_conn->Subscribe(o.subject, OnEcho, &echo_state));
      }
    }
    natsSubscription* actions_sub = sub.Subscribe(o.actions, OnAction, &run);
    if (o.print && !echo) {
      extra.push_back(sub.Subscribe(o.decisions, OnPrintOnly, &run));
      extra.push_back(sub.Subscribe(o.deadletter, OnPrintOnly, &run));
    }

    if (!o.events_file.empty()) {
      rc = PublishFile(run, pub);
    } else if (!Probe(run, pub, o.ready_timeout_s)) {
      fprintf(stderr,
              "juncture-load: no reply to a probe event on %s within %d s: is `juncture serve` "
              "running on %s with a program where '%s' sends at once (bench/load/program)?\n",
              o.actions.c_str(), o.ready_timeout_s, o.url.c_str(), o.event_name.c_str());
      rc = 1;
    } else {
      if (!echo) {
        // Identify every customer, then probe again: the probe's reply means serve has
        // applied every identify before it.
        for (int c = 0; c < o.customers; ++c)
          pub.Publish(o.events_prefix + ".identify",
                      IdentifyMessage(o, run.id + "-i" + std::to_string(c), c));
        if (!Probe(run, pub, o.ready_timeout_s)) {
          fprintf(stderr, "juncture-load: no reply to the probe after the identifies\n");
          rc = 1;
        }
      }
      if (rc == 0) rc = Measure(run, pub, actions_sub);
    }
    for (natsSubscription* s : extra) natsSubscription_Destroy(s);
    natsSubscription_Destroy(actions_sub);
  }
  nats_Close();
  return rc;
}
