// Bearer tokens of the Docker registry token flow: scopes, and JWTs signed (regd's own) or
// verified (regd's own and external issuers') with libjwt. Nothing here keeps state: any
// instance verifies what any other issued. Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth_keys.h"
#include "auth_rules.h"
#include "regd/error.h"

namespace regd::daemon {

// One access scope: "repository:NAME:ACTIONS" ("repository(plugin):NAME:ACTIONS" too: the class
// is dropped), or "registry:catalog:*".
struct Scope {
  std::string type;  // "repository" or "registry"
  std::string name;  // repository name, or "catalog"
  Actions actions = 0;
  bool operator==(const Scope&) const = default;
};

// Parses one scope; actions the scope names beyond pull, push, delete and * are ignored
// ("registry:catalog:*" keeps k_all_actions). Errors: invalid_argument (not TYPE:NAME:ACTIONS,
// an empty name, a type other than repository or registry).
[[nodiscard]] Result<Scope> parse_scope(std::string_view text);
// Every scope of the `scope` query values (each may hold several, separated by spaces, as
// OAuth2 clients send them); malformed ones are dropped, as token servers do.
std::vector<Scope> parse_scopes(const std::vector<std::string>& values);
// "repository:NAME:pull,push" (the challenge's and the access claim's form).
std::string format_scope(const Scope& scope);

struct TokenClaims {
  std::string issuer;
  std::string subject;  // the user; empty for an anonymous token
  std::string audience;
  std::vector<Scope> access;
  std::chrono::system_clock::time_point issued_at;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point expires_at;
};

// Signs `claims` as a JWT (header alg ES256 or RS256 as the key is; claims iss, sub, aud, iat,
// nbf, exp, a random jti and access: [{type, name, actions}]). Errors: invalid_argument (a
// string of the claims holds a NUL character or is not UTF-8), io_error (libjwt failed).
[[nodiscard]] Result<std::string> sign_token(const SigningKey& key, const TokenClaims& claims);

// Who may have issued a token: an `iss` and its keys.
struct TokenTrust {
  std::string issuer;
  std::vector<PublicKey> keys;
};

// Allowed clock difference between issuer and verifier for exp and nbf.
inline constexpr std::chrono::seconds k_token_leeway{60};

// Verifies a compact JWS: its header's alg must be ES256 or RS256 and match a key of a trust
// whose issuer equals the token's iss (so "none", HS256 keyed with a public key and every other
// algorithm are refused before any signature check), the signature must verify with that key,
// aud (a string or an array) must contain `audience`, exp must be present and nbf, when present,
// reached (both with k_token_leeway). Errors: invalid_argument with the reason (malformed,
// unknown issuer, bad signature, expired, not yet valid, wrong audience) - no key material.
[[nodiscard]] Result<TokenClaims> verify_token(std::string_view token, std::span<const TokenTrust> trusts,
                                               std::string_view audience, std::chrono::system_clock::time_point now);

}  // namespace regd::daemon
