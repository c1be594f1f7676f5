// /v2/ (API version check), /healthz (alive), /readyz (storage usable, not draining),
// /metrics (Prometheus).
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

// Readiness of a read-only instance means "can read": it never writes, and a read-only mount is
// exactly where such an instance runs.
Response readyz(Context& ctx) {
  if (ctx.state.draining) {
    return text(503, "draining\n");
  }
  auto access = ctx.config.read_only ? StorageAccess::read : StorageAccess::write;
  if (auto usable = probe_storage(ctx.storage, access); !usable) {
    log(LogLevel::error, "readiness probe failed", {{"error", usable.error().message}});
    return text(503, usable.error().message + "\n");
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
