// Everything a route handler may use: the registry, the storage (readiness probe), the
// configuration and the server's shared state. Handlers keep nothing between requests.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "config.h"
#include "metrics.h"
#include "regd/registry.h"
#include "regd/storage.h"
#include "reload.h"

namespace regd::daemon {

class Auth;
class TlsContexts;
class Limits;
class Upstreams;

struct ServerState {
  std::atomic<bool> draining{false};  // SIGTERM seen: /readyz answers 503
  std::atomic<bool> closing{false};   // no longer accepting: finish in-flight requests, then close
  Metrics metrics;
  // Run in order on SIGHUP, one at a time, while connections keep being served (reload.h): each
  // applies what it owns (credentials, rules, keys, certificates, limits) from the configuration
  // read again, or keeps its old state when the new one is unusable. Registered before
  // Server::run; never changed after.
  Reloaders reloaders;
  // Authentication and authorization (auth.h); null when auth is off. Set before Server::run.
  std::shared_ptr<Auth> auth;
  // The TLS contexts of the listener (tls.h); null when TLS is off. Set before Server::run.
  std::shared_ptr<TlsContexts> tls;
  // Rate limits and quotas (request_limits.h); null: none (unit tests). Set before Server::run.
  std::shared_ptr<Limits> limits;
  // The pull-through cache's upstreams (upstream.h); null without --upstream. Set before
  // Server::run; outlives every request (its workers finish their jobs first).
  std::shared_ptr<Upstreams> upstreams;
};

struct Context {
  Registry& registry;
  Storage& storage;
  const Config& config;
  ServerState& state;
};

}  // namespace regd::daemon
