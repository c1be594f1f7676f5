// Maps a request path to a route and calls its handler. Repository names may contain '/', so
// the route is recognised from the right: /v2/<name>/(blobs|manifests|tags|referrers)/...
#pragma once

#include <string>
#include <string_view>

#include "context.h"
#include "http_types.h"

namespace regd::daemon {

enum class RouteKind {
  not_found,
  base,          // /v2/
  healthz,       // /healthz
  readyz,        // /readyz
  metrics,       // /metrics
  catalog,       // /v2/_catalog
  blob,          // /v2/<name>/blobs/<digest>
  upload_start,  // /v2/<name>/blobs/uploads/
  upload,        // /v2/<name>/blobs/uploads/<id>
  manifest,      // /v2/<name>/manifests/<reference>
  tags_list,     // /v2/<name>/tags/list
  referrers,     // /v2/<name>/referrers/<digest>
  token,         // /v2/token (served with --token-key)
};

struct Route {
  RouteKind kind = RouteKind::not_found;
  std::string name;  // repository, not yet validated
  std::string ref;   // digest, tag, reference or upload id, not yet validated
};

// Pure path matching; no validation of name or reference beyond the shape of the path.
Route match_route(std::string_view path);

// Routes `request` (read-only mode and method checks included) and runs its handler. The
// request is completed on the way (Request::user once authenticated).
Outcome dispatch(Context& ctx, Request& request);

}  // namespace regd::daemon
