#include "juncture/nats_options.h"

namespace juncture::tools {

void AddNatsOptions(CLI::App& cmd, serve::NatsSettings& n) {
  cmd.add_option("--nats", n.url, "NATS server URL")->capture_default_str();
  cmd.add_option("--user", n.user, "NATS user name");
  cmd.add_option("--password", n.password, "NATS password");
  cmd.add_option("--token", n.token, "NATS authentication token");
  cmd.add_option("--creds", n.creds_file, "NATS credentials file (.creds)");
  cmd.add_flag("--tls", n.tls, "require TLS to NATS");
  cmd.add_option("--tls-ca", n.tls_ca, "CA certificates (PEM) to verify the NATS server");
  cmd.add_option("--tls-cert", n.tls_cert, "client certificate (PEM) for NATS");
  cmd.add_option("--tls-key", n.tls_key, "client private key (PEM) for NATS");
}

}  // namespace juncture::tools
