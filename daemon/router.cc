#include "router.h"

#include <vector>

#include "auth.h"
#include "error_table.h"
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

}  // namespace

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

// The pipeline: match the route, authenticate and authorize (every route, the token endpoint
// included, passes here), refuse writes on a read-only instance, run the handler.
Outcome dispatch(Context& ctx, Request& request) {
  Route route = match_route(request.path);
  if (ctx.state.auth) {
    if (auto refused = ctx.state.auth->check(request, route)) {
      return std::move(*refused);
    }
  }
  if (route.kind != RouteKind::token && ctx.config.read_only && is_write(request.method) &&
      route.kind != RouteKind::not_found) {
    return error_response(405, "UNSUPPORTED", "this registry instance is read-only");
  }
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
