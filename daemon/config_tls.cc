// The TLS options (docs/security.md, "TLS"), kept apart from config.cc.
#include <CLI/CLI.hpp>

#include "config.h"

namespace regd::daemon {

void add_tls_options(CLI::App& app, TlsConfig& t) {
  app.add_option("--tls-cert", t.cert, "PEM certificate chain (leaf first): serve HTTPS; needs --tls-key")
      ->envname("REGD_TLS_CERT");
  app.add_option("--tls-key", t.key, "PEM private key of --tls-cert")->envname("REGD_TLS_KEY");
  app.add_option("--tls-client-ca", t.client_ca,
                 "PEM CA certificates: clients must present a certificate signed by one")
      ->envname("REGD_TLS_CLIENT_CA");
}

Status validate_tls_config(const TlsConfig& t) {
  if (t.cert.empty() != t.key.empty()) {
    return fail(Errc::invalid_argument, "--tls-cert and --tls-key go together: give both or neither");
  }
  if (!t.client_ca.empty() && t.cert.empty()) {
    return fail(Errc::invalid_argument, "--tls-client-ca needs --tls-cert and --tls-key");
  }
  return {};
}

}  // namespace regd::daemon
