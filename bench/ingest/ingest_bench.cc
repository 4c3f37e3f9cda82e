// juncture-ingest-bench: what `juncture ingest` costs a producer (bench/ingest/run.sh,
// docs/performance.md "Ingest"). C client threads, each with a keep-alive connection,
// send the same message shapes an SDK sends (single /v1/track calls, or /v1/batch of B
// messages) as fast as answers come back; every request's latency is recorded. In the
// same run, the floor: the same messages published straight to NATS by the same number
// of threads, each publish-and-flush timed like a request (what the ingest itself waits
// for before it answers 200). What the ingest adds is the difference.
//
// usage: juncture-ingest-bench --url http://127.0.0.1:8088 --write-key K --nats URL
//          [--requests N] [--batch B] [--connections C] [--jetstream]
#include <httplib.h>
#include <nats/nats.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url = "http://127.0.0.1:8088";
  std::string write_key = "bench";
  std::string nats = "nats://127.0.0.1:4222";
  int requests = 20000;
  int batch = 1;
  int connections = 4;
  bool jetstream = false;
};

// A track as analytics-node sends it (context, _metadata, integrations included).
std::string Message(int thread, int i) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"type":"track","event":"cart_updated","userId":"bench-%d-%d",)"
                R"("messageId":"bench-%d-%d","timestamp":"2026-12-03T12:00:00.000Z",)"
                R"("properties":{"cart_value":120.5,"currency":"USD"},"integrations":{},)"
                R"("context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"}},)"
                R"("_metadata":{"nodeVersion":"v20.20.2","jsRuntime":"node"}})",
                thread, i % 1000, thread, i);
  return buf;
}

struct Result {
  std::vector<double> latency_us;  // per request
  double seconds = 0;
  int failed = 0;
};

double Pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void Report(const char* what, const Options& o, Result& r) {
  size_t n = r.latency_us.size();
  double messages = static_cast<double>(n) * o.batch;
  std::printf("%-8s batch %-4d conns %-3d requests %-7zu  %9.0f req/s %10.0f msg/s  "
              "p50 %8.1f us  p99 %8.1f us  per message p50 %7.2f us  failed %d\n",
              what, o.batch, o.connections, n, n / r.seconds, messages / r.seconds,
              Pct(r.latency_us, 0.5), Pct(r.latency_us, 0.99), Pct(r.latency_us, 0.5) / o.batch,
              r.failed);
}

// Runs `per_thread(thread, requests, latencies, failed)` on o.connections threads.
template <typename F>
Result Run(const Options& o, F per_thread) {
  Result r;
  std::vector<std::vector<double>> lat(o.connections);
  std::vector<int> failed(o.connections, 0);
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int t = 0; t < o.connections; ++t) {
    threads.emplace_back([&, t] { per_thread(t, o.requests / o.connections, lat[t], failed[t]); });
  }
  for (auto& th : threads) th.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (int t = 0; t < o.connections; ++t) {
    r.latency_us.insert(r.latency_us.end(), lat[t].begin(), lat[t].end());
    r.failed += failed[t];
  }
  return r;
}

std::string Body(const Options& o, int t, int i) {
  if (o.batch == 1) return Message(t, i);
  std::string body = R"({"batch":[)";
  for (int k = 0; k < o.batch; ++k) {
    if (k) body += ',';
    body += Message(t, i * o.batch + k);
  }
  body += R"(],"sentAt":"2026-12-03T12:00:00.000Z"})";
  return body;
}

Result Http(const Options& o) {
  return Run(o, [&](int t, int n, std::vector<double>& lat, int& failed) {
    httplib::Client client(o.url);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // as the SDKs' HTTP stacks (Node's) do
    client.set_basic_auth(o.write_key, "");
    const std::string path = o.batch == 1 ? "/v1/track" : "/v1/batch";
    for (int i = 0; i < n; ++i) {
      std::string body = Body(o, t, i);
      auto begin = Clock::now();
      auto res = client.Post(path, body, "application/json");
      lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
      if (!res || res->status != 200) ++failed;
    }
  });
}

Result Floor(const Options& o) {
  return Run(o, [&](int t, int n, std::vector<double>& lat, int& failed) {
    natsConnection* nc = nullptr;
    if (natsConnection_ConnectTo(&nc, o.nats.c_str()) != NATS_OK) {
      failed = n;
      return;
    }
    jsCtx* js = nullptr;
    if (o.jetstream) natsConnection_JetStream(&js, nc, nullptr);
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> msgs;
      for (int k = 0; k < o.batch; ++k) msgs.push_back(Message(t, i * o.batch + k));
      auto begin = Clock::now();
      bool ok = true;
      for (size_t k = 0; k < msgs.size(); ++k) {
        const std::string& m = msgs[k];
        natsMsg* msg = nullptr;
        natsMsg_Create(&msg, "juncture.events.p.0", nullptr, m.data(), static_cast<int>(m.size()));
        std::string id = "floor-" + std::to_string(t) + "-" + std::to_string(i * o.batch + k);
        natsMsgHeader_Set(msg, "Nats-Msg-Id", id.c_str());
        if (js) {
          ok &= js_PublishMsgAsync(js, &msg, nullptr) == NATS_OK;
        } else {
          ok &= natsConnection_PublishMsg(nc, msg) == NATS_OK;
        }
        natsMsg_Destroy(msg);
      }
      ok &= (js ? js_PublishAsyncComplete(js, nullptr) : natsConnection_FlushTimeout(nc, 5000)) == NATS_OK;
      lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
      if (!ok) ++failed;
    }
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  });
}

// A stream on juncture.events.> (memory storage: the bench measures the ingest, not
// the disk), unless one is there.
bool EnsureStream(const std::string& url) {
  natsConnection* nc = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return false;
  jsCtx* js = nullptr;
  bool ok = natsConnection_JetStream(&js, nc, nullptr) == NATS_OK;
  if (ok) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = "BENCH_EVENTS";
    const char* subjects[] = {"juncture.events.>"};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_MemoryStorage;
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(&info, js, &cfg, nullptr, &code);
    ok = s == NATS_OK || code == JSStreamNameExistErr;
    jsStreamInfo_Destroy(info);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"juncture-ingest-bench: requests/s and latency of juncture ingest, and the NATS floor"};
  app.add_option("--url", o.url, "the ingest")->capture_default_str();
  app.add_option("--write-key", o.write_key)->capture_default_str();
  app.add_option("--nats", o.nats, "the NATS server behind it (for the floor)")->capture_default_str();
  app.add_option("--requests", o.requests)->capture_default_str();
  app.add_option("--batch", o.batch, "messages per request (1: /v1/track)")->capture_default_str();
  app.add_option("--connections", o.connections, "client threads")->capture_default_str();
  app.add_flag("--jetstream", o.jetstream, "the floor waits for JetStream acks");
  CLI11_PARSE(app, argc, argv);
  if (o.jetstream && !EnsureStream(o.nats)) {
    std::fprintf(stderr, "juncture-ingest-bench: cannot create a stream on juncture.events.> at %s\n",
                 o.nats.c_str());
    return 1;
  }
  Result floor = Floor(o);
  Result http = Http(o);
  Report("nats", o, floor);
  Report("ingest", o, http);
  std::printf("added    p50 %.1f us per request, %.2f us per message\n",
              Pct(http.latency_us, 0.5) - Pct(floor.latency_us, 0.5),
              (Pct(http.latency_us, 0.5) - Pct(floor.latency_us, 0.5)) / o.batch);
  return http.failed + floor.failed == 0 ? 0 : 1;
}
