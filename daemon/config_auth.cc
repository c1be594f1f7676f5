// The authentication and authorization options (docs/security.md), kept apart from config.cc.
#include <CLI/CLI.hpp>

#include "config.h"
#include "regd/duration.h"

namespace regd::daemon {

void add_auth_options(CLI::App& app, AuthConfig& a) {
  app.add_option("--htpasswd", a.htpasswd, "Users and bcrypt hashes (htpasswd -B) for HTTP Basic authentication")
      ->envname("REGD_HTPASSWD");
  app.add_option("--auth-rules", a.auth_rules, "Access rules: who may pull, push, delete where")
      ->envname("REGD_AUTH_RULES");
  app.add_option("--token-key", a.token_key, "PEM private key (EC P-256 or RSA) signing regd's own tokens")
      ->envname("REGD_TOKEN_KEY");
  app.add_option("--token-trust", a.token_trust, "PEM public keys or certificates of external token issuers")
      ->envname("REGD_TOKEN_TRUST");
  app.add_option("--token-trust-issuer", a.token_trust_issuer, "The iss that external tokens carry")
      ->envname("REGD_TOKEN_TRUST_ISSUER");
  app.add_option("--token-issuer", a.token_issuer, "The iss of regd's own tokens")
      ->envname("REGD_TOKEN_ISSUER")
      ->capture_default_str();
  app.add_option("--token-service", a.token_service, "Service named in challenges; the aud every token must carry")
      ->envname("REGD_TOKEN_SERVICE")
      ->capture_default_str();
  app.add_option("--token-realm", a.token_realm, "Realm URL of Bearer challenges (default: this registry's /v2/token)")
      ->envname("REGD_TOKEN_REALM");
  app.add_option("--token-ttl", a.token_ttl, "Lifetime of the tokens regd issues")
      ->envname("REGD_TOKEN_TTL")
      ->capture_default_str();
  app.add_option("--auth-cache-ttl", a.auth_cache_ttl, "How long a verified credential is remembered (0: never)")
      ->envname("REGD_AUTH_CACHE_TTL")
      ->capture_default_str();
}

Status validate_auth_config(const AuthConfig& a) {
  auto ttl = parse_duration(a.token_ttl);
  if (!ttl || ttl->count() == 0) {
    return fail(Errc::invalid_argument, "--token-ttl must be a positive duration, got '" + a.token_ttl + "'");
  }
  if (auto cache = parse_duration(a.auth_cache_ttl); !cache) {
    return fail(Errc::invalid_argument, "--auth-cache-ttl: " + cache.error().message);
  }
  if (!a.token_trust.empty() && a.token_trust_issuer.empty()) {
    return fail(Errc::invalid_argument, "--token-trust needs --token-trust-issuer (the iss its tokens carry)");
  }
  if (!a.token_trust.empty() && a.token_key.empty() && a.token_realm.empty()) {
    return fail(Errc::invalid_argument, "--token-trust without --token-key needs --token-realm (the issuer's URL)");
  }
  if (!a.token_trust_issuer.empty() && a.token_trust.empty()) {
    return fail(Errc::invalid_argument, "--token-trust-issuer needs --token-trust");
  }
  if (a.token_issuer.empty() || a.token_service.empty()) {
    return fail(Errc::invalid_argument, "--token-issuer and --token-service must not be empty");
  }
  return {};
}

}  // namespace regd::daemon
