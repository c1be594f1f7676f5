// The route groups of regd's HTTP surface (router.h matches a path to one).
#pragma once

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

}  // namespace regd::daemon
