// GET/HEAD/DELETE /v2/<name>/blobs/<digest>: immutable, range-capable, sent with sendfile (or,
// with --s3-redirect, a GET answered by a 307 to the object store).
#include "error_table.h"
#include "http_util.h"
#include "regd/reference.h"
#include "routes.h"

namespace regd::daemon {
namespace {

std::string quoted(const Digest& digest) {
  return "\"" + digest.str() + "\"";
}

// Headers, conditional and range handling shared by GET and HEAD. Sets file_offset/length.
Response blob_response(const Request& request, const Digest& digest, uint64_t size) {
  Response r;
  r.set("Docker-Content-Digest", digest.str());
  r.set("Content-Type", "application/octet-stream");
  r.set("Accept-Ranges", "bytes");
  set_immutable(r, digest.str());
  if (auto inm = request.header("If-None-Match"); !inm.empty() && etag_matches(inm, quoted(digest))) {
    r.status = 304;
    return r;
  }
  r.file_length = size;
  auto range_header = request.header("Range");
  auto if_range = request.header("If-Range");
  if (range_header.empty() || (!if_range.empty() && if_range != quoted(digest))) {
    return r;
  }
  auto range = parse_range(range_header, size);
  if (range.kind == RangeKind::unsatisfiable) {
    auto err =
        error_response(Error{Errc::range_invalid, "range not satisfiable: " + std::string(range_header)}, Area::blob);
    err.set("Content-Range", "bytes */" + std::to_string(size));
    err.set("Docker-Content-Digest", digest.str());
    return err;
  }
  if (range.kind == RangeKind::single) {
    r.status = 206;
    r.file_offset = range.range.first;
    r.file_length = range.range.last - range.range.first + 1;
    r.set("Content-Range", "bytes " + std::to_string(range.range.first) + "-" + std::to_string(range.range.last) + "/" +
                               std::to_string(size));
  }
  return r;
}

// --s3-redirect: a 307 to a presigned URL, so that the object store sends the bytes. The
// existence and link checks, If-None-Match and Range validity are the same as for the bytes (a
// 304 or 416 is answered here); the client sends its Range again to the URL. nullopt when the
// storage has no URLs to give.
std::optional<Response> redirect_blob(Context& ctx, const Request& request, std::string_view repository,
                                      const Digest& digest) {
  auto info = ctx.registry.stat_blob(repository, digest);
  if (!info) {
    return error_response(info.error(), Area::blob);
  }
  auto r = blob_response(request, digest, info->size);
  if (r.status != 200 && r.status != 206) {
    return r;
  }
  auto url = ctx.registry.blob_url(digest, s3_redirect_ttl(ctx.config));
  if (!url) {
    return std::nullopt;
  }
  Response redirect;
  redirect.status = 307;
  redirect.set("Location", std::move(*url));
  redirect.set("Docker-Content-Digest", digest.str());
  return redirect;  // Content-Length: 0, from the empty body
}

Response get_blob(Context& ctx, const Request& request, std::string_view repository, const Digest& digest) {
  if (ctx.config.s3.redirect) {
    if (auto redirect = redirect_blob(ctx, request, repository, digest)) {
      return std::move(*redirect);
    }
  }
  auto file = ctx.registry.open_blob(repository, digest);
  if (!file) {
    return error_response(file.error(), Area::blob);
  }
  auto r = blob_response(request, digest, (*file)->size());
  if (r.status == 200 || r.status == 206) {
    r.file = std::move(*file);
  }
  return r;
}

Response head_blob(Context& ctx, const Request& request, std::string_view repository, const Digest& digest) {
  // stat_blob refreshes the repository link: a client skipping a push after HEAD relies on it.
  auto info = ctx.registry.stat_blob(repository, digest);
  if (!info) {
    return error_response(info.error(), Area::blob);
  }
  auto r = blob_response(request, digest, info->size);
  if (r.status == 200 || r.status == 206) {
    r.set("Content-Length", std::to_string(r.file_length));
  }
  r.body.clear();
  r.file_length = 0;
  return r;
}

Response delete_blob(Context& ctx, const Route& route, const Digest& digest) {
  if (auto deleted = ctx.registry.delete_blob(route.name, digest); !deleted) {
    return error_response(deleted.error(), Area::blob);
  }
  Response r;
  r.status = 202;
  return r;
}

}  // namespace

Response serve_blob(Context& ctx, const Request& request, std::string_view repository, const Digest& digest) {
  return request.method == Method::head ? head_blob(ctx, request, repository, digest)
                                        : get_blob(ctx, request, repository, digest);
}

Outcome handle_blob(Context& ctx, const Request& request, const Route& route) {
  if (request.method != Method::get && request.method != Method::head && request.method != Method::del) {
    return method_not_allowed("GET, HEAD, DELETE");
  }
  if (auto valid = validate_repository(route.name); !valid) {
    return error_response(valid.error(), Area::blob);
  }
  auto digest = Digest::parse(route.ref);
  if (!digest) {
    return error_response(digest.error(), Area::blob);
  }
  switch (request.method) {
    case Method::get:
    case Method::head: {
      auto r = serve_blob(ctx, request, route.name, *digest);
      if (r.status == 404) {
        if (auto proxied = proxy_blob(ctx, request, route, *digest)) {
          return std::move(*proxied);
        }
      }
      return r;
    }
    default:
      return delete_blob(ctx, route, *digest);
  }
}

}  // namespace regd::daemon
