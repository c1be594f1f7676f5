#include "auth_keys.h"

#include <algorithm>
#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth_text.h"

namespace regd::daemon {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// Refuses to prompt for a passphrase: an encrypted key fails to load instead.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

BioPtr memory_bio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// OpenSSL's error queue must not leak into another user of it on this thread (TLS).
Error key_error(size_t line, const std::string& why) {
  ERR_clear_error();
  return line_error(line, why);
}

size_t newlines(std::string_view text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The algorithm a key signs with, or an explanation why regd cannot use it.
Result<TokenAlg> key_alg(EVP_PKEY* key, size_t line) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key) < 2048) {
      return std::unexpected(key_error(line, "RSA key shorter than 2048 bits"));
    }
    return TokenAlg::rs256;
  }
  char group[64] = {};
  size_t length = 0;
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && EVP_PKEY_get_group_name(key, group, sizeof group, &length) == 1 &&
      std::string_view(group) == "prime256v1") {
    return TokenAlg::es256;
  }
  return std::unexpected(key_error(line, "not an EC P-256 (ES256) or RSA (RS256) key"));
}

Result<PublicKey> public_key(EVP_PKEY* key, size_t line) {
  auto alg = key_alg(key, line);
  if (!alg) {
    return std::unexpected(alg.error());
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PUBKEY(out.get(), key) != 1) {
    return std::unexpected(key_error(line, "cannot encode the public key"));
  }
  return PublicKey{*alg, bio_text(out.get())};
}

// The key of one PEM block (a public key or a certificate).
Result<PublicKey> block_key(std::string_view block, size_t line) {
  auto bio = memory_bio(block);
  KeyPtr key;
  if (block.starts_with("-----BEGIN PUBLIC KEY-----")) {
    key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr));
  } else if (block.starts_with("-----BEGIN CERTIFICATE-----")) {
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (cert) {
      key.reset(X509_get_pubkey(cert.get()));
    }
  } else {
    return std::unexpected(key_error(line, "expected a PUBLIC KEY or CERTIFICATE block"));
  }
  if (!key) {
    return std::unexpected(key_error(line, "the PEM block does not decode"));
  }
  return public_key(key.get(), line);
}

}  // namespace

std::string_view token_alg_name(TokenAlg alg) {
  return alg == TokenAlg::es256 ? "ES256" : "RS256";
}

Result<SigningKey> parse_signing_key(std::string_view pem) {
  size_t line = 1 + newlines(pem.substr(0, pem.find("-----BEGIN ")));
  auto bio = memory_bio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return std::unexpected(key_error(line, "not an unencrypted PEM private key"));
  }
  auto pub = public_key(key.get(), line);
  if (!pub) {
    return std::unexpected(pub.error());
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return std::unexpected(key_error(line, "cannot encode the private key"));
  }
  return SigningKey{pub->alg, bio_text(out.get()), std::move(*pub)};
}

Result<std::vector<PublicKey>> parse_trusted_keys(std::string_view pem) {
  std::vector<PublicKey> keys;
  size_t line = 1;
  size_t pos = 0;
  while (true) {
    auto begin = pem.find("-----BEGIN ", pos);
    if (begin == std::string_view::npos) {
      break;
    }
    line += newlines(pem.substr(pos, begin - pos));
    auto end = pem.find("-----END ", begin);
    auto close = end == std::string_view::npos ? end : pem.find("-----", end + 9);
    if (close == std::string_view::npos) {
      return std::unexpected(key_error(line, "PEM block without its END line"));
    }
    auto block = pem.substr(begin, close + 5 - begin);
    auto key = block_key(block, line);
    if (!key) {
      return std::unexpected(key.error());
    }
    keys.push_back(std::move(*key));
    pos = close + 5;
    line += newlines(block);
  }
  if (keys.empty()) {
    return std::unexpected(key_error(line, "no PEM public key or certificate"));
  }
  return keys;
}

}  // namespace regd::daemon
