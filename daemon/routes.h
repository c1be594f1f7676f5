// Route handlers, one group per file (routes_<group>.cc). Each validates its inputs, calls the
// registry and translates errors through error_table.h. REQUIRES: route.kind matches.
#pragma once

#include <optional>
#include <string_view>

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

// routes_proxy.cc: the pull-through cache (--upstream, docs/mirror.md). Each returns nullopt
// when the repository has no upstream (the caller goes on as usual).
// GET/HEAD of a manifest in a proxied repository: the cache, revalidated or filled upstream.
std::optional<Outcome> proxy_manifest(Context& ctx, const Request& request, const Route& route);
// GET/HEAD of a blob the proxied repository does not have yet: fetched upstream, streamed to the
// client while it is stored.
std::optional<Outcome> proxy_blob(Context& ctx, const Request& request, const Route& route, const Digest& digest);
// Pushes to a proxied repository are refused (405 UNSUPPORTED).
std::optional<Response> refuse_proxied_push(const Context& ctx, std::string_view repository);

// routes_manifests.cc: the response carrying a manifest (GET, or HEAD without the body), with
// its digest headers and If-None-Match handling.
Response manifest_response(const Request& request, std::string_view reference, Manifest manifest);
// routes_blobs.cc: a blob GET/HEAD served from storage.
Response serve_blob(Context& ctx, const Request& request, std::string_view repository, const Digest& digest);

// Shared by the groups (router.cc).
// 405 UNSUPPORTED with an Allow header.
Response method_not_allowed(std::string_view allow);
// Headers every digest-addressed (immutable) response carries: ETag, Cache-Control.
void set_immutable(Response& response, std::string_view digest);
// The repository part of every location header: "/v2/<name>".
std::string repo_path(std::string_view name);

}  // namespace regd::daemon
