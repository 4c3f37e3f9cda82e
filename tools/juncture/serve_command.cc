// juncture serve PROGRAM... --nats URL [--jetstream] [--metrics HOST:PORT] [--ui HOST:PORT] ...
// The NATS-fed runtime (serve/, docs/serve.md): this file only turns the command
// line into ServeOptions and gives the server a way to (re)compile the program.
#include <malloc.h>

#include <filesystem>
#include <iostream>
#include <mutex>

#include "juncture/commands.h"
#include "juncture/nats_options.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/jit.h"
#include "juncture/compiler/compiler.h"
#include "juncture/graph/journey_graph.h"
#include "juncture/graph/render.h"
#include "juncture/limit_options.h"
#include "juncture/program_options.h"
#include "juncture/serve/serve.h"

namespace juncture::tools {
namespace {

struct ServeCommandOptions {
  ProgramOptions program;
  BackendOptions backend;
  serve::ServeOptions serve;
  bool no_watch = false;
};

// The files whose change triggers a reload: the scripts, and approvals.json beside
// them (directories are expanded once, at start).
std::vector<std::string> FilesToWatch(const ProgramOptions& p) {
  std::vector<std::string> out;
  namespace fs = std::filesystem;
  for (const std::string& path : p.paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        std::string name = entry.path().filename().string();
        if (entry.path().extension() == ".jny" || name == "approvals.json") {
          out.push_back(entry.path().string());
        }
      }
    } else {
      out.push_back(path);
    }
  }
  if (!p.approvals.empty()) out.push_back(p.approvals);
  return out;
}

// The process's allocator, tuned for a long-running server whose memory churns with
// every message (docs/serve.md, "Memory"): blocks up to 32 MiB (RocksDB's memtable
// arenas among them) come from the heap, and up to 256 MiB of freed memory stay
// there, so that a steady stream reuses memory instead of mapping fresh pages and
// faulting them in again (each fault is dear on a virtual machine).
void TuneAllocator() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int RunServe(ServeCommandOptions& o) {
  TuneAllocator();
  auto options = MakeCompileOptions(o.program, nullptr);
  if (!options) return 2;
  options->warnings.DisableAll();
  if (!o.no_watch) o.serve.watch_files = FilesToWatch(o.program);
  if (!o.serve.cluster.name.empty()) o.serve.jetstream.enabled = true;
  // With the JIT at an opt level above 0, in two tiers: the loader compiles without
  // optimisation (several times faster: a reload is live sooner), then the optimiser
  // compiles the same compilation at the opt level, and serve swaps it in (the two
  // share the spec). Both run on serve's reloading thread, one after the other.
  struct Tiers {
    std::shared_ptr<const compiler::Compilation> pending;  // loaded, not optimised yet
    std::shared_ptr<const runtime::ProgramSpec> spec;      // its spec
  };
  auto tiers = std::make_shared<Tiers>();
  // The live page's picture: the journeys of the latest program loaded, drawn once.
  struct Picture {
    std::mutex mu;
    std::shared_ptr<const compiler::Compilation> program;
    std::string svg;  // of `program`; "" until drawn
  };
  auto picture = std::make_shared<Picture>();
  o.serve.ui_picture = [picture]() -> std::string {
    std::lock_guard<std::mutex> lock(picture->mu);
    if (picture->svg.empty() && picture->program && picture->program->ast()) {
      graph::GraphOptions options;
      options.sema = picture->program->sema();
      Result<std::string> svg =
          graph::JourneysDot(*picture->program->ast(), picture->program->sources(), options);
      if (svg.ok()) svg = graph::RenderDot(*svg, "svg");
      if (!svg.ok()) {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"20\">cannot draw "
               "the journeys</text></svg>";
      }
      picture->svg = *std::move(svg);
    }
    return picture->svg;
  };
  serve::ProgramLoader loader = [&o, tiers, picture,
                                 compile = *options]() -> Result<runtime::CompiledProgram> {
    tiers->pending.reset();
    std::shared_ptr<const compiler::Compilation> c = compiler::CompileFiles(o.program.paths, compile);
    if (!c->ok()) return c->status();
    {
      std::lock_guard<std::mutex> lock(picture->mu);
      picture->program = c;
      picture->svg.clear();
    }
    if (o.backend.no_jit) return compiler::MakeInterpretedProgram(*c);
    Result<runtime::CompiledProgram> p = compiler::MakeJitProgram(*c, 0);
    if (p.ok() && o.backend.opt_level > 0) {
      tiers->pending = c;
      tiers->spec = p->spec;
    }
    return p;
  };
  serve::ProgramOptimizer optimizer = [&o, tiers]() -> std::optional<runtime::CompiledProgram> {
    std::shared_ptr<const compiler::Compilation> c = std::move(tiers->pending);
    if (!c) return std::nullopt;
    Result<runtime::CompiledProgram> p = compiler::MakeJitProgram(*c, o.backend.opt_level);
    if (!p.ok()) {
      std::cerr << "juncture serve: the optimised code failed; unoptimised code stays: "
                << p.status().message() << "\n";
      return std::nullopt;
    }
    p->spec = tiers->spec;  // the same compilation: the same spec (BuildSpec is deterministic)
    return *std::move(p);
  };
  return serve::Serve(o.serve, loader, optimizer);
}

}  // namespace

Runner AddServeCommand(CLI::App& app) {
  auto o = std::make_shared<ServeCommandOptions>();
  AddProgramOptions(app, o->program);
  AddBackendOptions(app, o->backend);
  serve::ServeOptions& s = o->serve;
  serve::NatsSettings& n = s.nats;
  AddNatsOptions(app, n);
  app.add_option("--subject", s.subjects, "subjects to consume (repeatable)")
      ->capture_default_str();
  app.add_option("--metrics", s.metrics_address,
                 "serve Prometheus /metrics on HOST:PORT (e.g. 127.0.0.1:9464)");
  app.add_option("--ui", s.ui_address,
                 "serve the live journey page on HOST:PORT (e.g. 127.0.0.1:8080; off by default)");
  app.add_option("--http-token", s.http_token,
                 "require this token on /metrics and the live page (Authorization: Bearer, "
                 "or ?token= in the page's address)");
  app.add_option("--http-tls-cert", s.http_tls_cert,
                 "serve /metrics and the live page over HTTPS with this certificate (PEM)");
  app.add_option("--http-tls-key", s.http_tls_key, "the private key (PEM) of --http-tls-cert");
  app.add_flag("--jetstream", s.jetstream.enabled,
               "consume a JetStream stream through a durable consumer (at-least-once, "
               "checkpointed state)");
  app.add_option("--stream", s.jetstream.stream, "JetStream stream of events")
      ->capture_default_str();
  app.add_option("--durable", s.jetstream.durable, "durable consumer name")
      ->capture_default_str();
  app.add_option("--actions-stream", s.jetstream.actions_stream,
                 "JetStream stream that deduplicates actions")
      ->capture_default_str();
  app.add_option("--state-dir", s.state.dir,
                 "the state store's directory (customers, waits, caps, windows; created "
                 "if missing)")
      ->capture_default_str();
  app.add_option("--shards", s.shards,
                 "engines deciding in parallel, each on its own thread, for the customers "
                 "of its partitions")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--partitions", s.partitions,
                 "partitions of the deployment (customers map to them by a fixed hash)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--cluster", s.cluster.name,
                 "JetStream: run as one instance of the cluster NAME, sharing the partitions "
                 "with its other instances by leases, each partition's state in a replicated "
                 "changelog (implies --jetstream)");
  app.add_option("--instance", s.cluster.instance,
                 "--cluster: this instance's id, unique in the cluster (default: host name "
                 "and process id)");
  app.add_option("--replicas", s.cluster.replicas,
                 "--cluster: replicas of the streams and lease bucket serve creates (3 on "
                 "a three-node cluster)")
      ->capture_default_str()
      ->check(CLI::Range(1, 5));
  app.add_option("--lease-ttl-ms", s.cluster.lease_ttl_ms,
                 "--cluster: a partition lease not renewed within this long is taken over")
      ->capture_default_str()
      ->check(CLI::Range(1000, 600000));
  app.add_flag("--memory-state", s.state.memory_only,
               "core NATS: keep the state in memory only (lost when serve stops)");
  app.add_option("--cache-customers", s.state.cache_customers,
                 "customers kept in memory at most (the least recently used are read back "
                 "from the state store when needed), and about as many of the earliest "
                 "pending timers (the later ones are read back as they fall due); 0: all")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--cache-mb", s.state.cache_mb, "the state store's block cache in MiB")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--sync-ms", s.state.sync_interval_ms,
                 "core NATS: longest time before the state's writes are forced onto the disk")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-ms", s.jetstream.checkpoint_interval_ms,
                 "longest time between checkpoints")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--ack-timeout-ms", s.jetstream.ack_timeout_ms,
                 "JetStream: an action not acknowledged by the actions stream within this "
                 "long is published again")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--linger-us", s.jetstream.linger_us,
                 "JetStream, one shard: after a round of fewer than 16 messages, wait this "
                 "long before reading again (fewer wake-ups, at most this much added "
                 "latency); 0: read again at once")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--fix-streams", s.jetstream.fix_streams,
               "JetStream: update existing streams whose subjects, duplicate window or acks "
               "do not fit serve's guarantees, instead of refusing to start");
  app.add_option("--busy-wait-us", s.busy_wait_us,
                 "core NATS, one shard: after a round that took 8 messages or more, wait "
                 "this long before reading again, so that under load more messages are "
                 "decided together (a lighter round reads again at once); 0: never wait")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{100'000}));
  app.add_option("--pending-messages", s.pending_messages,
                 "core NATS: messages NATS.c holds for serve before dropping (counted) ones")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--pending-bytes", s.pending_bytes,
                 "core NATS: bytes NATS.c holds for serve before dropping (counted) ones")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--drain-timeout-ms", s.drain_timeout_ms,
                 "core NATS, on SIGTERM: longest time to decide the messages already "
                 "received (0: no limit); what is left is counted and the exit code is 3")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--action-msg-id", s.action_msg_id_header,
               "core NATS: give each action a Nats-Msg-Id header (its decision id, also "
               "the JSON's \"id\"); through JetStream they always have one");
  app.add_option("--receipts", s.receipts_subject,
                 "subject of delivery receipts (\"\" for none)")
      ->capture_default_str();
  app.add_option("--receipt-window-ms", s.receipt_window_ms,
                 "how long a sent action waits for its delivery receipts")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-tracked-actions", s.max_tracked_actions,
                 "sent actions kept for their receipts at most (the oldest go first)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-watch", o->no_watch, "do not reload when a program file changes");
  // No --max-skew: serve decides at receipt time (or the stream's), whatever a message says.
  AddLimitOptions(app, s.limits, /*virtual_time=*/false);
  return [o] { return RunServe(*o); };
}

}  // namespace juncture::tools
