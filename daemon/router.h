// Maps a request path to a route and calls its handler. Repository names may contain '/', so
// the route is recognised from the right: /v2/<name>/(blobs|manifests|tags|referrers)/...
#pragma once

#include <string>
#include <string_view>

#include "context.h"
#include "http_types.h"
#include "route_kind.h"

namespace regd::daemon {

struct Route {
  RouteKind kind = RouteKind::not_found;
  std::string name;  // repository, not yet validated
  std::string ref;   // digest, tag, reference or upload id, not yet validated
};

// The route group's name in logs: "manifest", "upload_start", "not_found", ...
std::string_view route_name(RouteKind kind);

// Pure path matching; no validation of name or reference beyond the shape of the path.
Route match_route(std::string_view path);

// Runs `request` through the pipeline (read-only mode and method checks included) to the
// handler of `route`, match_route(request.path), matched once by the caller. The request is
// completed on the way (Request::user once authenticated).
Outcome dispatch(Context& ctx, Request& request, const Route& route);

}  // namespace regd::daemon
