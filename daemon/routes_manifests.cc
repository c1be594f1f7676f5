// GET/HEAD/PUT/DELETE /v2/<name>/manifests/<reference> (a tag or a digest).
#include "error_table.h"
#include "http_util.h"
#include "regd/reference.h"
#include "request_limits.h"
#include "routes.h"

namespace regd::daemon {
namespace {

// The media type without parameters ("application/json; charset=utf-8" -> "application/json").
std::string bare_media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  auto type = content_type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') {
    type.remove_suffix(1);
  }
  return std::string(type);
}

// The stored media type is returned as is: regd never converts between manifest formats, so
// Accept only informs; a client that cannot read the type sees it in Content-Type.
Response get_manifest(Context& ctx, const Request& request, const Route& route) {
  auto manifest = ctx.registry.get_manifest(route.name, route.ref);
  if (!manifest) {
    return error_response(manifest.error(), Area::manifest);
  }
  return manifest_response(request, route.ref, std::move(*manifest));
}

// Collects a manifest body (at most the configured limit) and stores it.
class ManifestSink : public BodySink {
 public:
  ManifestSink(Context& ctx, const Request& request, const Route& route)
      : m_ctx(ctx),
        m_name(route.name),
        m_reference(route.ref),
        m_content_type(bare_media_type(request.header("Content-Type"))),
        m_tags(query_values(request.query, "tag")) {}

  Status write(std::span<const char> data) override {
    if (m_content.size() + data.size() > m_ctx.config.max_manifest_size) {
      return fail(Errc::too_large, "manifest larger than " + std::to_string(m_ctx.config.max_manifest_size) + " bytes");
    }
    m_content.append(data.data(), data.size());
    return {};
  }

  Response finish() override {
    auto put = m_ctx.registry.put_manifest(m_name, m_reference, m_content_type, m_content, m_tags);
    if (!put) {
      return error_response(put.error(), Area::manifest);
    }
    Response r;
    r.status = 201;
    r.set("Location", repo_path(m_name) + "/manifests/" + put->digest.str());
    r.set("Docker-Content-Digest", put->digest.str());
    if (put->subject) {
      r.set("OCI-Subject", put->subject->str());
    }
    // One header per ?tag= the registry set: how a client knows the tags were accepted (spec).
    for (const std::string& tag : put->tags) {
      r.add("OCI-Tag", tag);
    }
    return r;
  }

  Response on_error(const Error& error) override { return error_response(error, Area::manifest); }

 private:
  Context& m_ctx;
  std::string m_name;
  std::string m_reference;
  std::string m_content_type;
  std::vector<std::string> m_tags;
  std::string m_content;
};

// Each ?tag= costs two synced link writes: a push carries at most --max-tags-per-push of them
// (0: any number). Checked before the body is read.
std::optional<Response> check_tag_count(const Context& ctx, const Request& request) {
  // The limits' value, not the start-up configuration's: SIGHUP may have changed it.
  uint32_t cap = ctx.state.limits ? ctx.state.limits->max_tags_per_push() : ctx.config.limits.max_tags_per_push;
  size_t count = query_values(request.query, "tag").size();
  if (cap == 0 || count <= cap) {
    return std::nullopt;
  }
  return error_response(
      400, "TAG_INVALID",
      std::to_string(count) + " tag parameters; a manifest PUT may carry at most " + std::to_string(cap));
}

// Checked before the body is read, so a bad reference costs no upload.
Status validate_put_reference(std::string_view reference) {
  if (is_digest_reference(reference)) {
    auto digest = Digest::parse(reference);
    if (!digest) {
      return std::unexpected(digest.error());
    }
    return {};
  }
  return validate_tag(reference);
}

Response delete_manifest(Context& ctx, const Route& route) {
  Status deleted;
  if (is_digest_reference(route.ref)) {
    auto digest = Digest::parse(route.ref);
    if (!digest) {
      return error_response(digest.error(), Area::manifest);
    }
    deleted = ctx.registry.delete_manifest(route.name, *digest);
  } else {
    deleted = ctx.registry.delete_tag(route.name, route.ref);
  }
  if (!deleted) {
    return error_response(deleted.error(), Area::manifest);
  }
  Response r;
  r.status = 202;
  return r;
}

}  // namespace

Response manifest_response(const Request& request, std::string_view reference, Manifest manifest) {
  Response r;
  auto digest = manifest.digest.str();
  r.set("Docker-Content-Digest", digest);
  r.set("Content-Type", manifest.media_type);
  r.set("ETag", "\"" + digest + "\"");
  if (is_digest_reference(reference)) {
    set_immutable(r, digest);
  }
  if (auto inm = request.header("If-None-Match"); !inm.empty() && etag_matches(inm, "\"" + digest + "\"")) {
    r.status = 304;
    return r;
  }
  if (request.method == Method::head) {
    r.set("Content-Length", std::to_string(manifest.content.size()));
  } else {
    r.body = std::move(manifest.content);
  }
  return r;
}

Outcome handle_manifest(Context& ctx, const Request& request, const Route& route) {
  if (auto valid = validate_repository(route.name); !valid) {
    return error_response(valid.error(), Area::manifest);
  }
  if (auto proxied = proxy_manifest(ctx, request, route)) {
    return std::move(*proxied);
  }
  switch (request.method) {
    case Method::get:
    case Method::head:
      return get_manifest(ctx, request, route);
    case Method::put:
      if (auto refused = refuse_proxied_push(ctx, route.name)) {
        return std::move(*refused);
      }
      if (auto valid = validate_put_reference(route.ref); !valid) {
        return error_response(valid.error(), Area::manifest);
      }
      if (auto refused = check_tag_count(ctx, request)) {
        return std::move(*refused);
      }
      return Outcome(std::make_unique<ManifestSink>(ctx, request, route), ctx.config.max_manifest_size);
    case Method::del:
      return delete_manifest(ctx, route);
    default:
      return method_not_allowed("GET, HEAD, PUT, DELETE");
  }
}

}  // namespace regd::daemon
