// Everything a route handler may use: the registry, the storage (readiness probe), the
// configuration and the server's shared state. Handlers keep nothing between requests.
#pragma once

#include <atomic>

#include "config.h"
#include "metrics.h"
#include "regd/registry.h"
#include "regd/storage.h"

namespace regd::daemon {

struct ServerState {
  std::atomic<bool> draining{false};  // SIGTERM seen: /readyz answers 503
  std::atomic<bool> closing{false};   // no longer accepting: finish in-flight requests, then close
  Metrics metrics;
};

struct Context {
  Registry& registry;
  Storage& storage;
  const Config& config;
  ServerState& state;
};

}  // namespace regd::daemon
