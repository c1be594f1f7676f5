// /v2/ (API version check), /healthz (alive), /readyz (storage writable, not draining),
// /metrics (Prometheus).
#include <atomic>

#include <unistd.h>

#include "error_table.h"
#include "log.h"
#include "routes.h"

namespace regd::daemon {
namespace {

Response text(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.set("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

// A probe file name unique to this process and call: instances sharing one root never collide.
std::string probe_path() {
  static std::atomic<uint64_t> counter{0};
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return "_regd/readyz/" + std::string(host) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

Response readyz(Context& ctx) {
  if (ctx.state.draining) {
    return text(503, "draining\n");
  }
  auto path = probe_path();
  auto written = ctx.storage.write_file(path, "ok");
  if (!written) {
    log(LogLevel::error, "readiness probe failed", {{"error", written.error().message}});
    return text(503, "storage not writable: " + written.error().message + "\n");
  }
  if (auto removed = ctx.storage.remove(path); !removed && removed.error().code != Errc::not_found) {
    return text(503, "storage not writable: " + removed.error().message + "\n");
  }
  return text(200, "ready\n");
}

}  // namespace

Outcome handle_base(Context& ctx, const Request& request, const Route& route) {
  if (request.method != Method::get && request.method != Method::head) {
    return method_not_allowed("GET, HEAD");
  }
  switch (route.kind) {
    case RouteKind::base: {
      Response r;
      r.set("Content-Type", "application/json");
      r.body = "{}";
      return r;
    }
    case RouteKind::healthz:
      return text(200, "ok\n");
    case RouteKind::readyz:
      return readyz(ctx);
    case RouteKind::metrics: {
      auto r = text(200, ctx.state.metrics.render());
      r.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
      return r;
    }
    default:
      return error_response(404, "NOT_FOUND", "no such endpoint");
  }
}

}  // namespace regd::daemon
