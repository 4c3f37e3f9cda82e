#include "serve/metrics/http_common.h"

#include <openssl/crypto.h>

#include <fstream>

namespace juncture::serve::metrics {

std::unique_ptr<httplib::Server> MakeServer(const HttpSecurity& security, std::string* error) {
  if (security.tls_cert.empty() && security.tls_key.empty()) return std::make_unique<httplib::Server>();
  if (security.tls_cert.empty() || security.tls_key.empty()) {
    if (error) *error = "TLS needs both a certificate and its key";
    return nullptr;
  }
  for (const std::string& file : {security.tls_cert, security.tls_key}) {
    if (!std::ifstream(file)) {
      if (error) *error = "cannot read " + file;
      return nullptr;
    }
  }
  auto server = std::make_unique<httplib::SSLServer>(security.tls_cert.c_str(), security.tls_key.c_str());
  if (!server->is_valid()) {
    if (error) *error = "not a certificate and key in PEM: " + security.tls_cert + ", " + security.tls_key;
    return nullptr;
  }
  return server;
}

bool Authorized(const HttpSecurity& security, const httplib::Request& req, httplib::Response& res) {
  if (security.token.empty()) return true;
  std::string given;
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
  if (given.empty()) given = req.get_param_value("token");
  // In constant time for tokens of the right length: the comparison tells nothing.
  if (given.size() == security.token.size() &&
      CRYPTO_memcmp(given.data(), security.token.data(), given.size()) == 0) {
    return true;
  }
  res.status = 401;
  res.set_header("WWW-Authenticate", "Bearer");
  res.set_content("a token is needed (Authorization: Bearer TOKEN, or ?token=TOKEN)\n", "text/plain");
  return false;
}

}  // namespace juncture::serve::metrics
