// Keys, certificates and tokens made inside the auth tests (OpenSSL and libjwt, as an external
// token issuer would make them), and hand-made JWTs for the algorithm-confusion cases.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace regd::testing {

struct TestKey {
  std::string private_pem;  // PKCS#8
  std::string public_pem;   // SubjectPublicKeyInfo
  std::string certificate;  // self-signed, PEM
};

inline std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(size));
  BIO_free(bio);
  return out;
}

inline TestKey pem_of(EVP_PKEY* key) {
  TestKey out;
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.private_pem = bio_string(priv);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, key);
  out.public_pem = bio_string(pub);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("issuer"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  BIO* c = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(c, cert);
  out.certificate = bio_string(c);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// "P-256", "P-384", ...
inline TestKey make_ec_key(const char* curve = "P-256") {
  return pem_of(EVP_EC_gen(curve));
}

inline TestKey make_rsa_key(unsigned bits = 2048) {
  return pem_of(EVP_RSA_gen(bits));
}

inline std::string base64url(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  for (char& c : out) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

// A compact JWS with the given header and claims, and "signature" `signature` (raw bytes).
inline std::string raw_jwt(const nlohmann::json& header, const nlohmann::json& claims, std::string_view signature) {
  return base64url(header.dump()) + "." + base64url(claims.dump()) + "." + base64url(signature);
}

// An HS256 token keyed with `secret` (the algorithm-confusion attack uses a public key's PEM).
inline std::string hs256_jwt(const nlohmann::json& claims, std::string_view secret) {
  std::string signing_input =
      base64url(nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}}.dump()) + "." + base64url(claims.dump());
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac, &length);
  return signing_input + "." + base64url(std::string_view(reinterpret_cast<char*>(mac), length));
}

// A token signed by libjwt, as an external issuer would sign it. `alg`: "ES256", "RS256", ...
inline std::string libjwt_token(const nlohmann::json& claims, const std::string& private_pem, const char* alg) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grants_json(jwt, claims.dump().c_str());
  jwt_set_alg(jwt, jwt_str_alg(alg), reinterpret_cast<const unsigned char*>(private_pem.data()),
              static_cast<int>(private_pem.size()));
  char* text = jwt_encode_str(jwt);
  std::string out = text != nullptr ? text : "";
  std::free(text);
  jwt_free(jwt);
  return out;
}

inline int64_t epoch_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Claims as an external issuer makes them: `access` is [{type, name, actions}].
inline nlohmann::json token_claims(const std::string& iss, const std::string& aud, const std::string& sub,
                                   const nlohmann::json& access, int64_t exp_offset = 300) {
  auto now = epoch_now();
  // {entry} in C++ is the entry itself, not an array of it (nlohmann's braces): wrap it.
  auto list = access.is_array() ? access : access.is_null() ? nlohmann::json::array() : nlohmann::json::array({access});
  return {{"iss", iss}, {"aud", aud},    {"sub", sub}, {"iat", now}, {"nbf", now}, {"exp", now + exp_offset},
          {"jti", "t"}, {"access", list}};
}

inline nlohmann::json repo_access(const std::string& name, const std::vector<std::string>& actions) {
  return {{"type", "repository"}, {"name", name}, {"actions", actions}};
}

}  // namespace regd::testing
