// The NATS connection options `juncture serve` and `juncture ingest` share: URL,
// credentials, TLS (serve::NatsSettings).
#pragma once

#include <CLI/CLI.hpp>

#include "juncture/serve/serve.h"

namespace juncture::tools {

void AddNatsOptions(CLI::App& cmd, serve::NatsSettings& nats);

}  // namespace juncture::tools
