// The TLS contexts of regd's listener (docs/security.md, "TLS"): built from --tls-cert,
// --tls-key and --tls-client-ca, TLS 1.2 and 1.3 only, ECDHE with AEAD ciphers for 1.2, no
// compression, no renegotiation. SIGHUP builds a new context and swaps it in for connections
// accepted after; open connections keep the one they started with. Internal to the daemon.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "config.h"
#include "regd/error.h"

namespace boost::asio::ssl {
class context;
}

namespace regd::daemon {

class TlsContexts {
 public:
  // Loads the files of `config` (REQUIRES: config.enabled()). Errors: invalid_argument naming the
  // file and OpenSSL's reason (unreadable, not PEM, key not matching the certificate).
  [[nodiscard]] static Result<std::shared_ptr<TlsContexts>> create(const TlsConfig& config);

  // The context for a new connection. Thread-safe.
  std::shared_ptr<boost::asio::ssl::context> current() const { return m_current.load(); }
  bool client_certificates() const { return !m_config.client_ca.empty(); }

  // Reloads the files; when they do not load, keeps the current context and returns why
  // (errors as create). Thread-safe against current(); REQUIRES: one reload at a time.
  [[nodiscard]] Status reload();

 private:
  explicit TlsContexts(TlsConfig config) : m_config(std::move(config)) {}

  TlsConfig m_config;
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> m_current;
};

// Builds one server context from `config`. Errors as TlsContexts::create.
[[nodiscard]] Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const TlsConfig& config);

// The subject CN of the peer certificate of `ssl` (an OpenSSL SSL*) when it verified; else "".
std::string verified_client_cn(void* ssl);

}  // namespace regd::daemon
