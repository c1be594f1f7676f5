#include "auth_token.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "http_util.h"
#include "regd/base64.h"
#include "regd/storage.h"

namespace regd::daemon {
namespace {

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
struct CharFree {
  void operator()(char* text) const { std::free(text); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;
using CharPtr = std::unique_ptr<char, CharFree>;

int64_t epoch(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Error invalid(std::string why) {
  ERR_clear_error();  // libjwt leaves OpenSSL errors behind; TLS on this thread must not see them
  return Error{Errc::invalid_argument, "invalid token: " + std::move(why)};
}

std::string random_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return "";
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += k_hex[b >> 4];
    out += k_hex[b & 15];
  }
  return out;
}

nlohmann::json access_json(const std::vector<Scope>& access) {
  auto out = nlohmann::json::array();
  for (const Scope& scope : access) {
    auto actions = nlohmann::json::array();
    if (scope.type == "registry") {
      actions.push_back("*");
    } else {
      for (auto [bit, name] : {std::pair{k_pull, "pull"}, std::pair{k_push, "push"}, std::pair{k_delete, "delete"}}) {
        if ((scope.actions & bit) != 0) {
          actions.push_back(name);
        }
      }
    }
    out.push_back({{"type", scope.type}, {"name", scope.name}, {"actions", actions}});
  }
  return out;
}

// The access claim of a verified token; entries that are not {type, name, actions[]} make the
// token invalid, unknown actions are ignored.
Result<std::vector<Scope>> parse_access(const nlohmann::json& claims) {
  std::vector<Scope> access;
  if (!claims.contains("access")) {
    return access;
  }
  if (!claims["access"].is_array()) {
    return std::unexpected(invalid("access is not an array"));
  }
  for (const auto& entry : claims["access"]) {
    if (!entry.is_object() || !entry.value("type", nlohmann::json()).is_string() ||
        !entry.value("name", nlohmann::json()).is_string() || !entry.value("actions", nlohmann::json()).is_array()) {
      return std::unexpected(invalid("malformed access entry"));
    }
    Scope scope{entry["type"], entry["name"], 0};
    for (const auto& action : entry["actions"]) {
      if (action.is_string()) {
        scope.actions |= parse_actions(action.get<std::string>(), false).value_or(0);
      }
    }
    access.push_back(std::move(scope));
  }
  return access;
}

bool audience_matches(const nlohmann::json& aud, std::string_view audience) {
  if (aud.is_string()) {
    return aud.get<std::string>() == audience;
  }
  if (aud.is_array()) {
    for (const auto& entry : aud) {
      if (entry.is_string() && entry.get<std::string>() == audience) {
        return true;
      }
    }
  }
  return false;
}

// A date claim (RFC 7519 NumericDate: seconds since the epoch, possibly fractional) as a time,
// when it is a number in the range the clock takes from outside (clock_from_seconds); the first
// bound only keeps the cast to an integer defined.
std::optional<Clock::time_point> date_claim(const nlohmann::json& value) {
  if (!value.is_number() || !(std::abs(value.get<double>()) < 1e12)) {
    return std::nullopt;
  }
  return clock_from_seconds(static_cast<int64_t>(value.get<double>()));
}

// Date claims must be dates, and name claims strings: a trusted issuer's odd value must make
// the token invalid, not overflow the clock arithmetic or throw.
std::optional<std::string> claim_type_error(const nlohmann::json& claims) {
  for (const char* name : {"exp", "nbf", "iat"}) {
    if (claims.contains(name) && !date_claim(claims[name])) {
      return std::string(name) + " is not a date";
    }
  }
  for (const char* name : {"iss", "sub"}) {
    if (claims.contains(name) && !claims[name].is_string()) {
      return std::string(name) + " is not a string";
    }
  }
  return std::nullopt;
}

Clock::time_point time_claim(const nlohmann::json& claims, const char* name) {
  return claims.contains(name) ? date_claim(claims[name]).value_or(Clock::time_point{}) : Clock::time_point{};
}

// The claims of a token whose signature was verified; checks aud, exp and nbf.
Result<TokenClaims> check_claims(jwt_t* jwt, std::string_view audience, Clock::time_point now) {
  CharPtr text(jwt_get_grants_json(jwt, nullptr));
  auto claims = nlohmann::json::parse(text ? text.get() : "", nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) {
    return std::unexpected(invalid("the claims are not a JSON object"));
  }
  if (!audience_matches(claims.value("aud", nlohmann::json()), audience)) {
    return std::unexpected(invalid("wrong audience"));
  }
  if (auto error = claim_type_error(claims)) {
    return std::unexpected(invalid(*error));
  }
  if (!claims.contains("exp")) {
    return std::unexpected(invalid("no expiry"));
  }
  TokenClaims out;
  out.expires_at = time_claim(claims, "exp");
  if (now > out.expires_at + k_token_leeway) {
    return std::unexpected(invalid("expired"));
  }
  out.not_before = time_claim(claims, "nbf");
  if (claims.contains("nbf") && now + k_token_leeway < out.not_before) {
    return std::unexpected(invalid("not valid yet"));
  }
  out.issued_at = time_claim(claims, "iat");
  out.issuer = claims.value("iss", "");
  out.subject = claims.value("sub", "");
  out.audience = audience;
  auto access = parse_access(claims);
  if (!access) {
    return std::unexpected(access.error());
  }
  out.access = std::move(*access);
  return out;
}

// A JSON object from one base64url segment of a compact JWS; null when it is not one.
nlohmann::json segment_json(std::string_view segment) {
  auto decoded = base64_decode(segment, Base64Form::any);
  if (!decoded) {
    return nullptr;
  }
  auto json = nlohmann::json::parse(*decoded, nullptr, false);
  return json.is_object() ? json : nullptr;
}

// The alg and iss the token claims, read without trusting them: only to refuse every algorithm
// but ES256 and RS256 before libjwt sees the token (it would verify an HS256 token keyed with
// the PEM text of a public key), and to pick the keys.
Result<std::pair<TokenAlg, std::string>> peek(std::string_view token) {
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::unexpected(invalid("malformed"));
  }
  auto header = segment_json(token.substr(0, first));
  auto claims = segment_json(token.substr(first + 1, second - first - 1));
  if (header.is_null() || claims.is_null() || !header.value("alg", nlohmann::json()).is_string()) {
    return std::unexpected(invalid("malformed"));
  }
  auto alg = header["alg"].get<std::string>();
  if (alg != "ES256" && alg != "RS256") {
    return std::unexpected(invalid("algorithm not accepted (ES256 or RS256 only)"));
  }
  auto iss = claims.value("iss", nlohmann::json());
  return std::pair{alg == "ES256" ? TokenAlg::es256 : TokenAlg::rs256, iss.is_string() ? iss.get<std::string>() : ""};
}

}  // namespace

Result<Scope> parse_scope(std::string_view text) {
  auto first = text.find(':');
  auto last = text.rfind(':');
  if (first == std::string_view::npos || first == last || last == first + 1) {
    return fail(Errc::invalid_argument, "scope '" + std::string(text) + "' is not TYPE:NAME:ACTIONS");
  }
  auto type = text.substr(0, first);
  if (auto paren = type.find('('); paren != std::string_view::npos && type.ends_with(')')) {
    type = type.substr(0, paren);  // "repository(plugin)"
  }
  if (type != "repository" && type != "registry") {
    return fail(Errc::invalid_argument, "scope type '" + std::string(type) + "' is not repository or registry");
  }
  Scope scope{std::string(type), std::string(text.substr(first + 1, last - first - 1)), 0};
  scope.actions = *parse_actions(text.substr(last + 1), false);
  return scope;
}

std::vector<Scope> parse_scopes(const std::vector<std::string>& values) {
  std::vector<Scope> scopes;
  for (const std::string& value : values) {
    size_t pos = 0;
    while (pos <= value.size()) {
      auto space = value.find(' ', pos);
      auto part = std::string_view(value).substr(pos, space == std::string::npos ? std::string::npos : space - pos);
      if (auto scope = parse_scope(part)) {
        scopes.push_back(std::move(*scope));
      }
      if (space == std::string::npos) {
        break;
      }
      pos = space + 1;
    }
  }
  return scopes;
}

std::string format_scope(const Scope& scope) {
  auto actions = scope.type == "registry" ? std::string("*") : format_actions(scope.actions);
  return scope.type + ":" + scope.name + ":" + actions;
}

namespace {

// The claims as JSON text. nlohmann's dump() throws on invalid UTF-8 (a Latin-1 user name in
// the htpasswd file) and libjwt's JSON parser refuses NUL characters: both are values here.
Result<std::string> claims_text(const nlohmann::json& body, const TokenClaims& claims) {
  auto has_nul = [](std::string_view text) { return text.find('\0') != std::string_view::npos; };
  bool nul = has_nul(claims.issuer) || has_nul(claims.subject) || has_nul(claims.audience) ||
             std::any_of(claims.access.begin(), claims.access.end(),
                         [&](const Scope& scope) { return has_nul(scope.type) || has_nul(scope.name); });
  if (nul) {
    return fail(Errc::invalid_argument, "a token cannot name a user or scope with a NUL character");
  }
  try {
    return body.dump();
  } catch (const nlohmann::json::exception&) {
    return fail(Errc::invalid_argument, "a token cannot name a user or scope that is not UTF-8");
  }
}

}  // namespace

Result<std::string> sign_token(const SigningKey& key, const TokenClaims& claims) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) {
    return fail(Errc::io_error, "cannot create a token");
  }
  JwtPtr jwt(raw);
  nlohmann::json body = {{"iss", claims.issuer},
                         {"sub", claims.subject},
                         {"aud", claims.audience},
                         {"iat", epoch(claims.issued_at)},
                         {"nbf", epoch(claims.not_before)},
                         {"exp", epoch(claims.expires_at)},
                         {"jti", random_id()},
                         {"access", access_json(claims.access)}};
  auto text = claims_text(body, claims);
  if (!text) {
    return std::unexpected(text.error());
  }
  auto alg = key.alg == TokenAlg::es256 ? JWT_ALG_ES256 : JWT_ALG_RS256;
  const auto* pem = reinterpret_cast<const unsigned char*>(key.pem.data());
  if (jwt_add_grants_json(jwt.get(), text->c_str()) != 0 ||
      jwt_set_alg(jwt.get(), alg, pem, static_cast<int>(key.pem.size())) != 0) {
    ERR_clear_error();
    return fail(Errc::io_error, "cannot build a token");
  }
  CharPtr token(jwt_encode_str(jwt.get()));
  ERR_clear_error();
  if (!token) {
    return fail(Errc::io_error, "cannot sign a token");
  }
  return std::string(token.get());
}

Result<TokenClaims> verify_token(std::string_view token, std::span<const TokenTrust> trusts, std::string_view audience,
                                 Clock::time_point now) {
  std::string text(token);
  auto claimed = peek(token);
  if (!claimed) {
    return std::unexpected(claimed.error());
  }
  auto [alg, issuer] = *claimed;
  bool known_issuer = false;
  for (const TokenTrust& trust : trusts) {
    if (trust.issuer != issuer) {
      continue;
    }
    known_issuer = true;
    for (const PublicKey& key : trust.keys) {
      if (key.alg != alg) {
        continue;  // never verify with a key of another kind (algorithm confusion)
      }
      jwt_t* raw = nullptr;
      const auto* pem = reinterpret_cast<const unsigned char*>(key.pem.data());
      if (jwt_decode(&raw, text.c_str(), pem, static_cast<int>(key.pem.size())) != 0) {
        continue;
      }
      JwtPtr jwt(raw);
      ERR_clear_error();
      if (jwt_get_alg(jwt.get()) != (alg == TokenAlg::es256 ? JWT_ALG_ES256 : JWT_ALG_RS256)) {
        return std::unexpected(invalid("algorithm changed"));
      }
      return check_claims(jwt.get(), audience, now);
    }
  }
  return std::unexpected(invalid(known_issuer ? "bad signature" : "unknown issuer"));
}

}  // namespace regd::daemon
