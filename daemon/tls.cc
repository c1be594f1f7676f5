#include "tls.h"

#include <utility>  // before Asio (its awaitable header needs std::exchange)

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace regd::daemon {

namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" TLS 1.2 list: forward secrecy (ECDHE) and AEAD only. TLS 1.3 keeps
// OpenSSL's defaults, which are all AEAD.
constexpr const char* k_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// Names this server's sessions; OpenSSL refuses to resume a session with client certificates
// without one.
constexpr unsigned char k_session_context[] = "regd";

// OpenSSL's reason for the last failure, or `fallback`.
std::string openssl_reason(const boost::system::error_code& ec) {
  unsigned long code = ERR_peek_last_error();
  std::string reason;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    reason = buf;
  }
  ERR_clear_error();
  return reason.empty() ? ec.message() : reason;
}

Status check(const boost::system::error_code& ec, const std::string& what) {
  if (!ec) {
    return {};
  }
  return fail(Errc::invalid_argument, what + ": " + openssl_reason(ec));
}

Status load_client_ca(ssl::context& context, const std::string& path) {
  boost::system::error_code ec;
  context.load_verify_file(path, ec);
  if (auto loaded = check(ec, path); !loaded) {
    return loaded;
  }
  // The CA names a client is told to pick a certificate for.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(path.c_str());
  if (names == nullptr) {
    return fail(Errc::invalid_argument, path + ": no CA certificate in the file");
  }
  SSL_CTX_set_client_CA_list(context.native_handle(), names);
  context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return {};
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_tls_context(const TlsConfig& config) {
  ERR_clear_error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(native, k_tls12_ciphers) != 1) {
    return fail(Errc::invalid_argument, "TLS 1.2 cipher list refused: " + openssl_reason({}));
  }
  SSL_CTX_set_session_id_context(native, k_session_context, sizeof k_session_context - 1);
  boost::system::error_code ec;
  context->use_certificate_chain_file(config.cert, ec);
  if (auto loaded = check(ec, config.cert); !loaded) {
    return std::unexpected(loaded.error());
  }
  context->use_private_key_file(config.key, ssl::context::pem, ec);
  if (auto loaded = check(ec, config.key); !loaded) {
    return std::unexpected(loaded.error());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return fail(Errc::invalid_argument,
                config.key + ": the key does not match " + config.cert + ": " + openssl_reason({}));
  }
  if (!config.client_ca.empty()) {
    if (auto loaded = load_client_ca(*context, config.client_ca); !loaded) {
      return std::unexpected(loaded.error());
    }
  }
  return context;
}

Result<std::shared_ptr<TlsContexts>> TlsContexts::create(const TlsConfig& config) {
  auto context = make_tls_context(config);
  if (!context) {
    return std::unexpected(context.error());
  }
  std::shared_ptr<TlsContexts> contexts(new TlsContexts(config));
  contexts->m_current.store(std::move(*context));
  return contexts;
}

Status TlsContexts::reload() {
  auto context = make_tls_context(m_config);
  if (!context) {
    return std::unexpected(context.error());
  }
  m_current.store(std::move(*context));
  return {};
}

std::string verified_client_cn(void* handle) {
  auto* ssl = static_cast<SSL*>(handle);
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
    return {};
  }
  X509_NAME* subject = X509_get_subject_name(peer);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) {
    return {};
  }
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) {
    return {};
  }
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  for (char c : cn) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return {};  // a name with control characters would be forged in logs and rules
    }
  }
  return cn;
}

}  // namespace regd::daemon
