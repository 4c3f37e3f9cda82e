// `juncture ingest`'s main loop: start, say where, wait for SIGINT or SIGTERM, stop.
#include <signal.h>

#include <cstdio>

#include "juncture/ingest/ingest.h"

namespace juncture::ingest {

int RunIngest(const IngestOptions& options) {
  // Blocked before any thread starts (NATS.c's, httplib's), so that only sigwait
  // below takes them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  Result<std::unique_ptr<Ingest>> started = Ingest::Start(options);
  if (!started.ok()) {
    std::fprintf(stderr, "juncture ingest: %s\n", started.status().message().c_str());
    return 1;
  }
  std::unique_ptr<Ingest> ingest = *std::move(started);
  std::fprintf(stderr,
               "juncture ingest: listening on port %d (POST /v1/track, identify, page, screen, "
               "group, alias, batch), publishing to %s %s.<0..%u>\n",
               ingest->port(), options.nats.url.c_str(), options.prefix.c_str(),
               options.partitions - 1);
  int signal = 0;
  sigwait(&stop, &signal);
  ingest->Stop();
  IngestCounters c = ingest->counters();
  std::fprintf(stderr,
               "juncture ingest: stopped: %llu requests, %llu messages published, %llu "
               "unauthorized, %llu refused, %llu not confirmed by NATS\n",
               static_cast<unsigned long long>(c.requests), static_cast<unsigned long long>(c.messages),
               static_cast<unsigned long long>(c.unauthorized), static_cast<unsigned long long>(c.refused),
               static_cast<unsigned long long>(c.unavailable));
  return 0;
}

}  // namespace juncture::ingest
