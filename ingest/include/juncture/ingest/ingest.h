// `juncture ingest`: a Segment-compatible HTTP endpoint in front of NATS (docs/ingest.md).
//
// Producers that already speak Segment's HTTP tracking API (analytics-node,
// rudder-sdk-node, any HTTP client) send to it; it checks their write key, splits and
// completes their messages, and publishes each on the subject of its customer's
// partition, answering 200 only once NATS has them. A process of its own, so that it
// scales apart from the deciders (`juncture serve`), which stay fed by NATS.
//
//   juncture::Result<std::unique_ptr<Ingest>> ingest = Ingest::Start(options);
//   if (!ingest.ok()) ...   // ingest.status(): why not
//   ... (*ingest)->port() ...
//   (*ingest)->Stop();      // or destroy it; it never touches the process's signals
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "juncture/serve/serve.h"
#include "juncture/status.h"

namespace juncture::ingest {

struct IngestOptions {
  std::string http = "127.0.0.1:8088";  // HOST:PORT to listen on (port 0: any free one)
  std::string write_keys_file;           // one key per line (required)
  serve::NatsSettings nats;              // where to publish
  bool jetstream = false;                // wait for the stream's acknowledgements
  std::string prefix = "juncture.events.p";  // subjects: PREFIX.<partition>
  uint32_t partitions = 64;
  int threads = 8;                       // HTTP worker threads
  int64_t publish_timeout_ms = 5000;     // NATS's flush or acknowledgements, per request
  std::string tls_cert, tls_key;         // HTTPS (PEM files), both or neither
};

// What the ingest has done since it started.
struct IngestCounters {
  uint64_t requests = 0;       // answered, whatever the answer
  uint64_t messages = 0;       // published and confirmed by NATS
  uint64_t unauthorized = 0;   // 401
  uint64_t refused = 0;        // 400: malformed or too large
  uint64_t unavailable = 0;    // 503: NATS did not take or confirm them in time
};

class Ingest {
 public:
  // Connects to NATS, reads the write keys and listens. An error if any fails
  // (kUnavailable: NATS cannot be reached or the address cannot be bound).
  static Result<std::unique_ptr<Ingest>> Start(const IngestOptions& options);
  virtual ~Ingest() = default;

  virtual int port() const = 0;  // the port it listens on
  virtual IngestCounters counters() const = 0;
  // Stops taking requests, finishes those under way, then disconnects. Idempotent.
  virtual void Stop() = 0;
};

// The command: starts, logs where it listens, runs until SIGINT or SIGTERM, stops.
// Returns the process's exit code.
int RunIngest(const IngestOptions& options);

}  // namespace juncture::ingest
