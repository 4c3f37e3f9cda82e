// `juncture serve`: the NATS-fed runtime. Consumes Segment-spec messages from NATS
// subjects (core NATS, or a JetStream durable consumer), decides with the engine on
// the wall clock, and publishes decisions, actions and dead letters back to NATS.
//
//   juncture.events.>            in: track / identify messages (configurable)
//   juncture.decisions.<journey> out: every decision (docs/language.md JSON)
//   juncture.actions.<channel>   out: every `sent` decision, header Nats-Msg-Id = id
//   juncture.deadletter          out: the raw bad message, header Juncture-Error
//
// See docs/serve.md for the guarantees of each mode. This library knows nothing of
// the compiler: the caller passes a ProgramLoader that compiles the program (again,
// on reload).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "juncture/runtime/partition.h"
#include "juncture/runtime/program.h"
#include "juncture/runtime/runtime.h"
#include "juncture/status.h"

namespace juncture::serve {

// How to reach NATS; every field but `url` is optional.
struct NatsSettings {
  std::string url = "nats://127.0.0.1:4222";
  std::string name = "juncture-serve";  // the client name the server shows
  std::string user, password;           // user/password authentication
  std::string token;                    // token authentication
  std::string creds_file;               // a NATS .creds file (JWT + NKey seed)
  bool tls = false;                     // require TLS
  std::string tls_ca;                   // CA certificates (PEM file)
  std::string tls_cert, tls_key;        // client certificate and key (PEM files)
  int64_t reconnect_wait_ms = 250;      // between reconnect attempts (forever)
};

struct JetStreamSettings {
  bool enabled = false;
  std::string stream = "JUNCTURE_EVENTS";           // created if missing, on `subjects`
  std::string durable = "juncture";                 // the durable pull consumer
  std::string actions_stream = "JUNCTURE_ACTIONS";  // dedupes actions by Nats-Msg-Id
  int64_t checkpoint_interval_ms = 200;             // at most this long between checkpoints
  int fetch_batch = 256;
  // One shard: after a round that decided only a few messages (fewer than 16), the
  // loop sleeps this long before it reads again, so that the next round takes the
  // messages that came meanwhile together: fewer wake-ups at moderate rates, for at
  // most this much added latency. 0: read again at once.
  int64_t linger_us = 200;
  // An action the actions stream has not acknowledged after this long is taken as
  // refused (and published again): no checkpoint waits forever.
  int64_t ack_timeout_ms = 5000;
  // Existing streams that do not fit serve's guarantees refuse the start; with this,
  // serve updates what an update can repair (subjects, duplicate window, acks).
  bool fix_streams = false;
};

// Compiles the program (at start and on every reload); an error (its message: the
// diagnostics) if it does not compile, in which case a running server keeps its
// current program.
using ProgramLoader = std::function<Result<runtime::CompiledProgram>()>;

// Optional: a faster form of the program the loader returned last, or nullopt. It
// must share that program's spec (the same compilation on another back end), so
// that taking it over only swaps the evaluator. serve calls it once the loaded form
// decides (after the start and after every reload), on the thread that reloads: a
// loader can return a form that compiles fast (JIT without optimisation), live at
// once, and leave the optimised one to this.
using ProgramOptimizer = std::function<std::optional<runtime::CompiledProgram>()>;

// Where the engine's state lives (docs/state.md).
struct StateSettings {
  // The embedded store (RocksDB): every change of a customer's state is written as it
  // is decided (core NATS) or with each checkpoint (JetStream); a restart resumes
  // every wait from it.
  std::string dir = "juncture-state";
  // No store: the state lives and dies with the process (core NATS only).
  bool memory_only = false;
  int64_t cache_mb = 64;  // the store's block cache
  // At most this many customers in memory (split between the shards), the least
  // recently used read back from the store when needed, and about as many of the
  // earliest pending timers (the later ones read back as they fall due); 0: all.
  int64_t cache_customers = 0;
  // Core NATS: commits go to the operating system at once (they survive serve being
  // killed) and onto the disk (fsync) at least this often (a power cut's loss).
  int64_t sync_interval_ms = 1000;
};

// `serve --cluster NAME` (JetStream): instances share the partitions by leases and
// keep each partition's state in a replicated changelog (docs/scaling.md, "Cluster").
struct ClusterSettings {
  std::string name;      // "" = no cluster; letters, digits, '-' and '_'
  std::string instance;  // unique in the cluster ("" = host name and process id)
  int replicas = 1;      // of the streams and bucket serve creates (3 on three nodes)
  int64_t lease_ttl_ms = 6000;  // a dead instance's partitions are taken over after this
};

struct ServeOptions {
  NatsSettings nats;
  JetStreamSettings jetstream;
  StateSettings state;
  ClusterSettings cluster;
  // Customers map to `partitions` partitions (runtime::PartitionOf; fixed for the life
  // of a deployment's state), and the partitions to `shards` engines, each deciding
  // on a thread of its own for the partitions p with p % shards == its index (core
  // NATS; JetStream decides on one). A state directory keeps its number of shards.
  uint32_t partitions = runtime::kDefaultPartitions;
  int shards = 1;
  std::vector<std::string> subjects = {"juncture.events.>"};
  std::string decisions_prefix = "juncture.decisions";
  std::string actions_prefix = "juncture.actions";
  std::string deadletter_subject = "juncture.deadletter";
  // Core NATS: also give each action a `Nats-Msg-Id` header holding its decision id
  // (the JSON's "id" has it in any case). Off by default: nothing deduplicates core
  // NATS messages, serve never publishes an action twice there, and NATS.c builds
  // (and later frees, on a thread of its own) a message object with a hash table for
  // every message with a header (docs/serve.md, "Subjects"). Actions through
  // JetStream always have it: the actions stream drops a replayed one by it.
  bool action_msg_id_header = false;
  // Delivery receipts ("" turns them off): matched to the sent actions kept for
  // `receipt_window_ms` after their publish, at most `max_tracked_actions` of them.
  std::string receipts_subject = "juncture.receipts.>";
  int64_t receipt_window_ms = 3'600'000;
  int64_t max_tracked_actions = 200'000;
  std::string metrics_address;          // "127.0.0.1:9464"; "" = no metrics endpoint
  // The live journey page (docs/serve.md): "" = off. `ui_picture` draws the journeys
  // as SVG (the command line renders them with Graphviz; called per page load).
  std::string ui_address;
  std::function<std::string()> ui_picture;
  // Both endpoints: an access token ("" = none) and TLS (a certificate and key in
  // PEM; "" = plain HTTP).
  std::string http_token, http_tls_cert, http_tls_key;
  std::vector<std::string> watch_files;  // reload when one of them changes ("" = none)
  bool quiet = false;                    // no per-event log lines
  // Core NATS: what NATS.c may hold for serve, per subscription, before it drops
  // messages as a slow consumer (drops are logged and counted).
  int pending_messages = 1'000'000;
  int64_t pending_bytes = int64_t{1} << 30;
  // Core NATS, one shard: after a busy round (one that took at least 8
  // messages), the loop waits this long before it reads again, so
  // that under load the next round takes what came meanwhile together: its wake-up
  // and system calls are paid for more messages. A lighter round is followed by an
  // immediate read, so a lone message is never held. 0: never wait.
  int64_t busy_wait_us = 200;
  // Core NATS, on SIGTERM: the longest time to decide the messages already received
  // (0: no bound). Messages still undecided then are counted, logged, and the exit
  // code is 3.
  int64_t drain_timeout_ms = 25'000;
  runtime::EngineLimits limits;          // the engine's bounds (docs/limits.md)
};

// Exit codes of Serve.
constexpr int kExitStopped = 0;       // a graceful stop, nothing left undone
constexpr int kExitCannotStart = 1;   // the reason is printed on stderr
constexpr int kExitStoppedWithLoss = 3;  // stopped, but received messages were not decided
                                          // (core) or the final checkpoint failed (JetStream)

// The command's form (`juncture serve`): owns the process's signals. Runs until
// SIGTERM or SIGINT (graceful: drain, publish, checkpoint), reloading on SIGHUP or a
// change of a watched file. Returns one of the exit codes above.
int Serve(const ServeOptions& options, const ProgramLoader& loader,
          const ProgramOptimizer& optimizer = {});

// The library's form: serve inside a process that keeps its signals to itself. It
// decides from Start until Stop, on its own threads; the caller reloads it (watch_files
// is not watched: call Reload when the program changes).
//
//   Result<std::unique_ptr<Service>> service = Service::Start(options, loader);
//   if (!service.ok()) ...                  // service.status(): why not
//   (*service)->Reload("the program changed");
//   int code = (*service)->Stop();          // graceful, as on SIGTERM
class Service {
 public:
  // Connects, restores the state, subscribes; an error if it cannot (kUnavailable:
  // NATS cannot be reached; kInvalidArgument: options or program; kFailedPrecondition
  // or kCorruption: the state directory).
  static Result<std::unique_ptr<Service>> Start(const ServeOptions& options,
                                                const ProgramLoader& loader,
                                                const ProgramOptimizer& optimizer = {});
  ~Service();  // Stop(), if not stopped yet
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Compiles the program again (the loader) and switches to it if it compiles; the
  // running program stays otherwise (logged and counted).
  void Reload(const std::string& why);
  // Drains (core NATS) or checkpoints (JetStream), then disconnects: one of the exit
  // codes above. Later calls return the same code.
  int Stop();

 private:
  struct State;
  explicit Service(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace juncture::serve
