#include "router.h"

#include <vector>

#include "auth.h"
#include "error_table.h"
#include "request_limits.h"
#include "routes.h"

namespace regd::daemon {
namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  while (true) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      return parts;
    }
    path.remove_prefix(slash + 1);
  }
}

std::string join(const std::vector<std::string_view>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) {
      out += '/';
    }
    out += parts[i];
  }
  return out;
}

Route repo_route(std::string_view rest) {
  auto parts = split(rest);
  size_t n = parts.size();
  if (n >= 4 && parts[n - 3] == "blobs" && parts[n - 2] == "uploads") {
    auto kind = parts[n - 1].empty() ? RouteKind::upload_start : RouteKind::upload;
    return {kind, join(parts, n - 3), std::string(parts[n - 1])};
  }
  if (n < 3) {
    return {};
  }
  auto group = parts[n - 2];
  auto last = parts[n - 1];
  auto name = join(parts, n - 2);
  if (group == "blobs") {
    // "/v2/<name>/blobs/uploads" without the final slash also starts an upload.
    return {last == "uploads" ? RouteKind::upload_start : RouteKind::blob, name, std::string(last)};
  }
  if (group == "manifests") {
    return {RouteKind::manifest, name, std::string(last)};
  }
  if (group == "tags" && last == "list") {
    return {RouteKind::tags_list, name, ""};
  }
  if (group == "referrers") {
    return {RouteKind::referrers, name, std::string(last)};
  }
  return {};
}

bool is_write(Method method) {
  return method == Method::post || method == Method::put || method == Method::patch || method == Method::del;
}

// Probes of load balancers and scrapers are never rate-limited: a limited probe would take the
// instance out of rotation for what its clients did.
bool is_probe(RouteKind kind) {
  return kind == RouteKind::healthz || kind == RouteKind::readyz || kind == RouteKind::metrics;
}

// An upload request that streams a body (PATCH, PUT, single POST) holds a slot of
// --max-concurrent-uploads until its sink is done.
bool is_upload_body(const Request& request, RouteKind kind) {
  bool upload = kind == RouteKind::upload || kind == RouteKind::upload_start;
  bool method = request.method == Method::post || request.method == Method::put || request.method == Method::patch;
  return upload && method && request.has_body();
}

// Forwards to the handler's sink while holding the upload slot.
class SlotSink : public BodySink {
 public:
  SlotSink(std::unique_ptr<BodySink> sink, std::unique_ptr<Limits::UploadSlot> slot)
      : m_sink(std::move(sink)), m_slot(std::move(slot)) {}
  Status write(std::span<const char> data) override { return m_sink->write(data); }
  bool splits() const override { return m_sink->splits(); }
  Status store(std::span<const char> data) override { return m_sink->store(data); }
  void hash(std::span<const char> data) override { m_sink->hash(data); }
  Response finish() override { return m_sink->finish(); }
  Response on_error(const Error& error) override { return m_sink->on_error(error); }

 private:
  std::unique_ptr<BodySink> m_sink;
  std::unique_ptr<Limits::UploadSlot> m_slot;
};

Outcome run_handler(Context& ctx, Request& request, const Route& route);

// The handler of an upload with a body runs only with a slot, which its sink keeps.
Outcome run_with_slot(Context& ctx, Request& request, const Route& route) {
  auto slot = ctx.state.limits->upload_slot();
  if (!slot) {
    ctx.state.metrics.rate_limited(RateLimit::concurrent_uploads);
    return std::move(slot.error());
  }
  Outcome outcome = run_handler(ctx, request, route);
  if (outcome.sink) {
    outcome.sink = std::make_unique<SlotSink>(std::move(outcome.sink), std::move(*slot));
  }
  return outcome;
}

}  // namespace

std::string_view route_name(RouteKind kind) {
  switch (kind) {
    case RouteKind::not_found:
      return "not_found";
    case RouteKind::base:
      return "base";
    case RouteKind::healthz:
      return "healthz";
    case RouteKind::readyz:
      return "readyz";
    case RouteKind::metrics:
      return "metrics";
    case RouteKind::catalog:
      return "catalog";
    case RouteKind::blob:
      return "blob";
    case RouteKind::upload_start:
      return "upload_start";
    case RouteKind::upload:
      return "upload";
    case RouteKind::manifest:
      return "manifest";
    case RouteKind::tags_list:
      return "tags_list";
    case RouteKind::referrers:
      return "referrers";
    case RouteKind::token:
      return "token";
  }
  return "not_found";
}

Route match_route(std::string_view path) {
  if (path == "/v2/" || path == "/v2") {
    return {RouteKind::base, "", ""};
  }
  if (path == "/healthz") {
    return {RouteKind::healthz, "", ""};
  }
  if (path == "/readyz") {
    return {RouteKind::readyz, "", ""};
  }
  if (path == "/metrics") {
    return {RouteKind::metrics, "", ""};
  }
  if (path == "/v2/_catalog") {
    return {RouteKind::catalog, "", ""};
  }
  if (path == "/v2/token") {
    return {RouteKind::token, "", ""};
  }
  if (!path.starts_with("/v2/")) {
    return {};
  }
  return repo_route(path.substr(4));
}

// The pipeline, for the route the caller matched: the per-address rate limit (before auth: a flood of bad
// credentials costs no bcrypt), authenticate and authorize (every route, the token endpoint
// included, passes here), the per-user rate limit, refuse writes on a read-only instance, take
// an upload slot, run the handler.
Outcome dispatch(Context& ctx, Request& request, const Route& route) {
  request.route = route.kind;
  request.repository_name = route.name;
  ctx.state.metrics.request_routed(route.kind);
  Limits* limits = ctx.state.limits.get();
  if (limits && !is_probe(route.kind)) {
    if (auto limited = limits->check_address(request)) {
      ctx.state.metrics.rate_limited(RateLimit::address);
      return std::move(*limited);
    }
  }
  if (ctx.state.auth) {
    if (auto refused = ctx.state.auth->check(request, route)) {
      return std::move(*refused);
    }
  }
  if (limits && !is_probe(route.kind)) {
    if (auto limited = limits->check_user(request)) {
      ctx.state.metrics.rate_limited(RateLimit::user);
      return std::move(*limited);
    }
  }
  if (route.kind != RouteKind::token && ctx.config.read_only && is_write(request.method) &&
      route.kind != RouteKind::not_found) {
    return error_response(405, "UNSUPPORTED", "this registry instance is read-only");
  }
  if (limits && is_upload_body(request, route.kind)) {
    return run_with_slot(ctx, request, route);
  }
  return run_handler(ctx, request, route);
}

namespace {

Outcome run_handler(Context& ctx, Request& request, const Route& route) {
  switch (route.kind) {
    case RouteKind::not_found:
      return error_response(404, "NOT_FOUND", "no such endpoint: " + request.path);
    case RouteKind::base:
    case RouteKind::healthz:
    case RouteKind::readyz:
    case RouteKind::metrics:
      return handle_base(ctx, request, route);
    case RouteKind::catalog:
      return handle_catalog(ctx, request, route);
    case RouteKind::blob:
      return handle_blob(ctx, request, route);
    case RouteKind::upload_start:
      return handle_upload_start(ctx, request, route);
    case RouteKind::upload:
      return handle_upload(ctx, request, route);
    case RouteKind::manifest:
      return handle_manifest(ctx, request, route);
    case RouteKind::tags_list:
      return handle_tags_list(ctx, request, route);
    case RouteKind::referrers:
      return handle_referrers(ctx, request, route);
    case RouteKind::token:
      return handle_token(ctx, request, route);
  }
  return error_response(404, "NOT_FOUND", "no such endpoint");
}

}  // namespace

Response method_not_allowed(std::string_view allow) {
  auto r = error_response(405, "UNSUPPORTED", "method not allowed; allowed: " + std::string(allow));
  r.set("Allow", std::string(allow));
  return r;
}

void set_immutable(Response& response, std::string_view digest) {
  response.set("ETag", "\"" + std::string(digest) + "\"");
  response.set("Cache-Control", "public, max-age=31536000, immutable");
}

std::string repo_path(std::string_view name) {
  return "/v2/" + std::string(name);
}

}  // namespace regd::daemon
