// The decisions of the auth step as pure functions (auth.h runs them): what a route needs,
// whether an identity has it, and the WWW-Authenticate challenge that names it.
#pragma once

#include <string>
#include <string_view>

#include "auth.h"
#include "auth_rules.h"
#include "http_types.h"
#include "router.h"

namespace regd::daemon {

struct Need {
  enum class Kind {
    open,           // /healthz, /readyz, unknown paths, the token endpoint (it checks its own callers)
    credentials,    // /v2/: any valid credentials, an anonymous token included
    authenticated,  // /metrics: an authenticated user
    repository,     // `actions` in `repository`
    catalog,        // /v2/_catalog: a pull right somewhere (and registry:catalog:* in a token)
  };
  Kind kind = Kind::open;
  std::string repository;
  Actions actions = 0;  // what the request needs
  Actions ask = 0;      // what the challenge names (clients ask pull,push for a push)
};

// pull for GET/HEAD of blobs, manifests, tags and referrers; push for every upload request
// (status and cancel included) and a manifest PUT (the challenge asks pull,push); delete for a
// DELETE of a manifest, tag or blob. Methods a route refuses need pull (the handler answers 405).
Need need_of(const Route& route, Method method);

enum class Verdict {
  allow,
  unauthenticated,     // anonymous without the right: 401, log in
  insufficient_scope,  // the rules allow it but the token does not carry it: 401, get a new token
  denied,              // an authenticated caller without the right: 403
};

Verdict decide(const AccessRules& rules, const Identity& identity, const Need& need);

// The actions a token's access claims grant in `repository`.
Actions token_actions(const std::vector<Scope>& access, std::string_view repository);

// The scope a challenge names for `need` ("repository:NAME:pull,push", "registry:catalog:*"),
// empty for none.
std::string challenge_scope(const Need& need);

// WWW-Authenticate values. `error` is "" or an RFC 6750 code (invalid_token, insufficient_scope).
std::string basic_challenge(std::string_view realm);
std::string bearer_challenge(std::string_view realm, std::string_view service, std::string_view scope,
                             std::string_view error);

// The default realm: <scheme>://<Host>/v2/token, https when the request came over TLS or the
// load balancer says X-Forwarded-Proto: https. A Host with characters no host name has is
// replaced by "localhost" (it is echoed inside a quoted string).
std::string default_realm(const Request& request);

}  // namespace regd::daemon
