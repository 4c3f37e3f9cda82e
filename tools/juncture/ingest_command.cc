// juncture ingest --nats URL --http HOST:PORT --write-keys FILE [--jetstream] ...
// The Segment-compatible HTTP endpoint (docs/ingest.md): a thin front over
// juncture/ingest/ingest.h.
#include <memory>

#include "juncture/commands.h"
#include "juncture/ingest/ingest.h"
#include "juncture/nats_options.h"
#include "juncture/runtime/partition.h"

namespace juncture::tools {

Runner AddIngestCommand(CLI::App& app) {
  auto o = std::make_shared<ingest::IngestOptions>();
  o->partitions = runtime::kDefaultPartitions;
  app.add_option("--http", o->http, "listen on HOST:PORT (:PORT for every interface)")
      ->capture_default_str();
  app.add_option("--write-keys", o->write_keys_file,
                 "file of the accepted write keys, one per line (# comments)")
      ->required();
  AddNatsOptions(app, o->nats);
  app.add_flag("--jetstream", o->jetstream,
               "answer 200 only once the JetStream stream acknowledged every message");
  app.add_option("--partitions", o->partitions, "partitions of the deployment")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 20));
  app.add_option("--prefix", o->prefix, "subjects: PREFIX.<partition>")->capture_default_str();
  app.add_option("--threads", o->threads, "HTTP worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--publish-timeout-ms", o->publish_timeout_ms,
                 "how long a request waits for NATS to confirm its messages (then 503)")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  app.add_option("--http-tls-cert", o->tls_cert, "serve HTTPS with this certificate (PEM)");
  app.add_option("--http-tls-key", o->tls_key, "the private key (PEM) of --http-tls-cert");
  return [o] { return ingest::RunIngest(*o); };
}

}  // namespace juncture::tools
