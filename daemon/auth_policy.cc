#include "auth_policy.h"

#include <algorithm>

namespace regd::daemon {
namespace {

Need repository_need(const Route& route, Actions actions, Actions ask) {
  return {Need::Kind::repository, route.name, actions, ask};
}

bool has_catalog_scope(const std::vector<Scope>& access) {
  return std::any_of(access.begin(), access.end(),
                     [](const Scope& s) { return s.type == "registry" && s.name == "catalog"; });
}

Verdict judge(Actions by_rules, Actions granted, const Identity& identity, Actions needed) {
  if ((granted & needed) == needed) {
    return Verdict::allow;
  }
  if (!identity.caller.authenticated) {
    return Verdict::unauthenticated;
  }
  if ((by_rules & needed) == needed) {
    return Verdict::insufficient_scope;
  }
  return Verdict::denied;
}

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' ||
         c == '_';
}

}  // namespace

Need need_of(const Route& route, Method method) {
  switch (route.kind) {
    case RouteKind::base:
      return {Need::Kind::credentials, "", 0, 0};
    case RouteKind::metrics:
      return {Need::Kind::authenticated, "", 0, 0};
    case RouteKind::catalog:
      return {Need::Kind::catalog, "", k_pull, k_pull};
    case RouteKind::upload_start:
    case RouteKind::upload:
      return repository_need(route, k_push, k_pull | k_push);
    case RouteKind::blob:
    case RouteKind::manifest:
      if (method == Method::del) {
        return repository_need(route, k_delete, k_delete);
      }
      if (method == Method::put && route.kind == RouteKind::manifest) {
        return repository_need(route, k_push, k_pull | k_push);
      }
      return repository_need(route, k_pull, k_pull);
    case RouteKind::tags_list:
    case RouteKind::referrers:
      return repository_need(route, k_pull, k_pull);
    case RouteKind::not_found:
    case RouteKind::healthz:
    case RouteKind::readyz:
    case RouteKind::token:
      return {};
  }
  return {};
}

Actions token_actions(const std::vector<Scope>& access, std::string_view repository) {
  Actions actions = 0;
  for (const Scope& scope : access) {
    if (scope.type == "repository" && scope.name == repository) {
      actions |= scope.actions;
    }
  }
  return actions;
}

Verdict decide(const AccessRules& rules, const Identity& identity, const Need& need) {
  switch (need.kind) {
    case Need::Kind::open:
      return Verdict::allow;
    case Need::Kind::credentials:
      return identity.credentials ? Verdict::allow : Verdict::unauthenticated;
    case Need::Kind::authenticated:
      return identity.caller.authenticated ? Verdict::allow : Verdict::unauthenticated;
    case Need::Kind::repository: {
      Actions by_rules = rules.allowed(identity.caller, need.repository);
      Actions granted = identity.token ? by_rules & token_actions(identity.access, need.repository) : by_rules;
      return judge(by_rules, granted, identity, need.actions);
    }
    case Need::Kind::catalog: {
      Actions by_rules = rules.pulls_anywhere(identity.caller) ? k_pull : 0;
      Actions granted = identity.token && !has_catalog_scope(identity.access) ? 0 : by_rules;
      return judge(by_rules, granted, identity, k_pull);
    }
  }
  return Verdict::denied;
}

std::string challenge_scope(const Need& need) {
  if (need.kind == Need::Kind::repository) {
    return format_scope({"repository", need.repository, need.ask});
  }
  if (need.kind == Need::Kind::catalog) {
    return format_scope({"registry", "catalog", k_all_actions});
  }
  return "";
}

std::string basic_challenge(std::string_view realm) {
  return "Basic realm=\"" + std::string(realm) + "\"";
}

std::string bearer_challenge(std::string_view realm, std::string_view service, std::string_view scope,
                             std::string_view error) {
  std::string out = "Bearer realm=\"" + std::string(realm) + "\",service=\"" + std::string(service) + "\"";
  if (!scope.empty()) {
    out += ",scope=\"" + std::string(scope) + "\"";
  }
  if (!error.empty()) {
    out += ",error=\"" + std::string(error) + "\"";
  }
  return out;
}

std::string default_realm(const Request& request) {
  auto host = std::string(request.header("Host"));
  if (host.empty() || !std::all_of(host.begin(), host.end(), host_char)) {
    host = "localhost";
  }
  bool https = request.secure || request.header("X-Forwarded-Proto") == "https";
  return (https ? "https://" : "http://") + host + "/v2/token";
}

}  // namespace regd::daemon
