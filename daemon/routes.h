// Route handlers, one group per file (routes_<group>.cc). Each validates its inputs, calls the
// registry and translates errors through error_table.h. REQUIRES: route.kind matches.
#pragma once

#include "context.h"
#include "http_types.h"
#include "router.h"

namespace regd::daemon {

// routes_base.cc: /v2/, /healthz, /readyz, /metrics.
Outcome handle_base(Context& ctx, const Request& request, const Route& route);

// routes_blobs.cc: GET/HEAD/DELETE /v2/<name>/blobs/<digest>.
Outcome handle_blob(Context& ctx, const Request& request, const Route& route);

// routes_uploads.cc: POST /v2/<name>/blobs/uploads/ and GET/PATCH/PUT/DELETE on a session.
Outcome handle_upload_start(Context& ctx, const Request& request, const Route& route);
Outcome handle_upload(Context& ctx, const Request& request, const Route& route);

// routes_manifests.cc: GET/HEAD/PUT/DELETE /v2/<name>/manifests/<reference>.
Outcome handle_manifest(Context& ctx, const Request& request, const Route& route);

// routes_tags.cc: GET /v2/<name>/tags/list and /v2/_catalog.
Outcome handle_tags_list(Context& ctx, const Request& request, const Route& route);
Outcome handle_catalog(Context& ctx, const Request& request, const Route& route);

// routes_referrers.cc: GET /v2/<name>/referrers/<digest>.
Outcome handle_referrers(Context& ctx, const Request& request, const Route& route);

// routes_token.cc: GET /v2/token and POST /v2/token (grant_type=password), with --token-key.
Outcome handle_token(Context& ctx, const Request& request, const Route& route);

// Shared by the groups (router.cc).
// 405 UNSUPPORTED with an Allow header.
Response method_not_allowed(std::string_view allow);
// Headers every digest-addressed (immutable) response carries: ETag, Cache-Control.
void set_immutable(Response& response, std::string_view digest);
// The repository part of every location header: "/v2/<name>".
std::string repo_path(std::string_view name);

}  // namespace regd::daemon
