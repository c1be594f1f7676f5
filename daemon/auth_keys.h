// PEM keys for tokens: the private key that signs regd's own tokens (--token-key) and the
// public keys of external issuers (--token-trust). OpenSSL reads and checks them; the JWT code
// (auth_token.h) only ever sees normalised PEM text. Pure functions over text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"

namespace regd::daemon {

// The JWS algorithms regd signs and verifies with; nothing else is ever accepted.
enum class TokenAlg { es256, rs256 };
std::string_view token_alg_name(TokenAlg alg);  // "ES256", "RS256"

struct PublicKey {
  TokenAlg alg = TokenAlg::es256;
  std::string pem;  // SubjectPublicKeyInfo ("PUBLIC KEY") PEM
};

struct SigningKey {
  TokenAlg alg = TokenAlg::es256;
  std::string pem;  // unencrypted PKCS#8 ("PRIVATE KEY") PEM
  PublicKey public_key;
};

// One PEM private key: EC P-256 (ES256) or RSA of at least 2048 bits (RS256). An encrypted
// key is refused (no passphrase is ever asked for). Errors: invalid_argument "line N: why".
[[nodiscard]] Result<SigningKey> parse_signing_key(std::string_view pem);

// One or more PEM blocks, each a public key ("PUBLIC KEY") or a certificate ("CERTIFICATE", its
// public key is used; validity dates and chains are not checked: the file is the trust), each
// EC P-256 or RSA >= 2048. Text between blocks is ignored. Errors: invalid_argument "line N:
// why" (a block of another type, a key of another kind, no block at all).
[[nodiscard]] Result<std::vector<PublicKey>> parse_trusted_keys(std::string_view pem);

}  // namespace regd::daemon
