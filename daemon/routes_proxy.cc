// The pull-through cache (--upstream, docs/mirror.md): repository PREFIX/NAME is served from
// repository NAME of an upstream registry and stored as ordinary content. Everything that talks
// to the upstream runs on an upstream worker (upstream.h), never on an event-loop thread.
#include <atomic>

#include "error_table.h"
#include "http_util.h"
#include "log.h"
#include "regd/reference.h"
#include "routes.h"
#include "upstream.h"
#include "upstream_blob.h"

namespace regd::daemon {
namespace {

constexpr size_t k_pipe_capacity = 4 * 1024 * 1024;  // blob bytes buffered between a fetch and its client
constexpr std::string_view k_stale_warning = "110 - \"Response is Stale\"";

using Done = std::function<void(Response)>;

bool is_unknown(Errc code) {
  return code == Errc::manifest_unknown || code == Errc::name_unknown || code == Errc::blob_unknown;
}

// The upstream failed (down, slow, 5xx, refused our credentials): the client learns that much;
// the details, which name the upstream host, go to the log.
Response unavailable(const Error& error) {
  log(LogLevel::warn, "upstream unavailable", {{"error", error.message}});
  auto r = error_response(503, "UNAVAILABLE", "the upstream registry is unavailable");
  r.set("Retry-After", "5");
  return r;
}

// Runs `job` on an upstream worker; the session waits for it without blocking its thread. The
// job calls `done` once (a blob fill goes on after it); a job that throws answers 500.
Outcome defer(Context& ctx, const Request& request, std::function<void(const Done&)> job) {
  Outcome outcome;
  // A plain pointer: the Upstreams outlive every request (main.cc), and must not be kept alive
  // by a request the stopped event loops never finish.
  outcome.deferred = [upstreams = ctx.state.upstreams.get(), job = std::move(job), id = request.request_id](Done done) {
    auto once = [done, called = std::make_shared<std::atomic<bool>>(false)](Response r) {
      if (!called->exchange(true)) {
        done(std::move(r));
      }
    };
    bool posted = upstreams->post([job, once, id] {
      RequestIdScope scope(id);
      try {
        job(once);
      } catch (const std::exception& e) {
        log(LogLevel::error, "upstream request failed", {{"error", e.what()}});
        once(error_response(500, "UNKNOWN", "internal error"));
      }
    });
    if (!posted) {
      auto r = error_response(429, "TOOMANYREQUESTS", "too many upstream fetches in progress");
      r.set("Retry-After", "1");
      once(std::move(r));
    }
  };
  return outcome;
}

Response stale(Context& ctx, const Request& request, const Route& route, Manifest cached, const Error& why) {
  log(LogLevel::warn, "upstream unavailable, serving the cached tag",
      {{"repository", route.name}, {"tag", route.ref}, {"error", why.message}});
  ctx.state.metrics.upstream(UpstreamEvent::stale);
  auto r = manifest_response(request, route.ref, std::move(cached));
  r.set("Warning", std::string(k_stale_warning));
  return r;
}

// A cached tag older than the TTL: a HEAD tells whether the upstream still has it there.
// nullopt: it moved (or the upstream lost it), fetch it again.
std::optional<Response> revalidate(Context& ctx, const Request& request, const Route& route, remote::Client& client,
                                   const UpstreamTarget& target, Manifest& cached) {
  auto head = client.head_manifest(target.repository, route.ref);
  if (!head) {
    return stale(ctx, request, route, std::move(cached), head.error());
  }
  if (!*head || **head != cached.digest) {
    return std::nullopt;
  }
  if (auto marked = ctx.registry.mark_tag_validated(route.name, route.ref); !marked) {
    log(LogLevel::warn, "cannot mark the tag validated",
        {{"repository", route.name}, {"error", marked.error().message}});
  }
  ctx.state.metrics.upstream(UpstreamEvent::revalidated);
  return manifest_response(request, route.ref, std::move(cached));
}

Response fetch_manifest(Context& ctx, const Request& request, const Route& route, const UpstreamTarget& target) {
  std::optional<Manifest> cached;
  if (!is_digest_reference(route.ref)) {
    if (auto local = ctx.registry.get_manifest(route.name, route.ref)) {
      cached = std::move(*local);
    }
  }
  auto client = ctx.state.upstreams->client(target, cached.has_value());
  if (!client) {
    return cached ? stale(ctx, request, route, std::move(*cached), client.error()) : unavailable(client.error());
  }
  if (cached) {
    if (auto answered = revalidate(ctx, request, route, **client, target, *cached)) {
      return std::move(*answered);
    }
  }
  auto fetched = (*client)->get_manifest(target.repository, route.ref);
  if (!fetched) {
    if (cached) {
      return stale(ctx, request, route, std::move(*cached), fetched.error());
    }
    if (is_unknown(fetched.error().code)) {
      return error_response(404, "MANIFEST_UNKNOWN", "manifest unknown to the upstream registry");
    }
    ctx.state.metrics.upstream(UpstreamEvent::error);
    return unavailable(fetched.error());
  }
  // A manifest that cannot be stored is still served: the next request tries again.
  if (auto stored = ctx.registry.cache_manifest(route.name, route.ref, fetched->media_type, fetched->content);
      !stored) {
    log(LogLevel::warn, "cannot store the upstream manifest",
        {{"repository", route.name}, {"reference", route.ref}, {"error", stored.error().message}});
  }
  ctx.state.metrics.upstream(cached ? UpstreamEvent::updated : UpstreamEvent::miss);
  return manifest_response(request, route.ref, std::move(*fetched));
}

// The headers of a blob response whose body comes from the upstream (no ranges: the whole blob).
Response fetched_blob_response(const Digest& digest, uint64_t size) {
  Response r;
  r.set("Docker-Content-Digest", digest.str());
  r.set("Content-Type", "application/octet-stream");
  set_immutable(r, digest.str());
  r.file_length = size;
  return r;
}

void fetch_blob(Context& ctx, const Request& request, const Route& route, const Digest& digest,
                const UpstreamTarget& target, const Done& done) {
  auto client = ctx.state.upstreams->client(target, false);
  if (!client) {
    return done(unavailable(client.error()));
  }
  auto size = (*client)->stat_blob(target.repository, digest);
  if (!size || !*size) {
    if (size || is_unknown(size.error().code)) {
      return done(error_response(404, "BLOB_UNKNOWN", "blob unknown to the upstream registry"));
    }
    ctx.state.metrics.upstream(UpstreamEvent::error);
    return done(unavailable(size.error()));
  }
  if (request.method == Method::head) {
    auto r = fetched_blob_response(digest, **size);
    r.set("Content-Length", std::to_string(**size));
    r.file_length = 0;
    return done(std::move(r));
  }
  auto writer = ctx.registry.put_blob(route.name, digest);
  if (!writer) {
    return done(error_response(writer.error(), Area::blob));
  }
  if (!*writer) {
    return done(serve_blob(ctx, request, route.name, digest));  // stored meanwhile: now linked here
  }
  auto pipe = std::make_shared<BlobPipe>(
      k_pipe_capacity, std::chrono::milliseconds(static_cast<int64_t>(ctx.config.body_timeout * 1000)));
  auto r = fetched_blob_response(digest, **size);
  r.stream = pipe->reader();
  done(std::move(r));
  ctx.state.metrics.upstream(UpstreamEvent::miss);
  if (auto filled = fill_blob(**client, target.repository, digest, **size, **writer, *pipe); !filled) {
    ctx.state.metrics.upstream(UpstreamEvent::error);
    log(LogLevel::warn, "upstream blob fetch failed, nothing stored",
        {{"repository", route.name}, {"digest", digest.str()}, {"error", filled.error().message}});
  }
}

}  // namespace

std::optional<Outcome> proxy_manifest(Context& ctx, const Request& request, const Route& route) {
  if (!ctx.state.upstreams || (request.method != Method::get && request.method != Method::head)) {
    return std::nullopt;
  }
  auto target = ctx.state.upstreams->find(route.name);
  if (!target) {
    return std::nullopt;
  }
  if (is_digest_reference(route.ref)) {
    auto digest = Digest::parse(route.ref);
    if (!digest) {
      return error_response(digest.error(), Area::manifest);
    }
    if (auto local = ctx.registry.get_manifest(route.name, route.ref)) {
      ctx.state.metrics.upstream(UpstreamEvent::hit);
      return manifest_response(request, route.ref, std::move(*local));
    }
  } else {
    if (auto valid = validate_tag(route.ref); !valid) {
      return error_response(valid.error(), Area::manifest);
    }
    auto checked = ctx.registry.tag_validated_at(route.name, route.ref);
    if (checked && Clock::now() - *checked < ctx.state.upstreams->ttl()) {
      if (auto local = ctx.registry.get_manifest(route.name, route.ref)) {
        ctx.state.metrics.upstream(UpstreamEvent::hit);
        return manifest_response(request, route.ref, std::move(*local));
      }
    }
  }
  return defer(ctx, request, [&ctx, request, route, target = *target](const Done& done) {
    done(fetch_manifest(ctx, request, route, target));
  });
}

std::optional<Outcome> proxy_blob(Context& ctx, const Request& request, const Route& route, const Digest& digest) {
  if (!ctx.state.upstreams) {
    return std::nullopt;
  }
  auto target = ctx.state.upstreams->find(route.name);
  if (!target) {
    return std::nullopt;
  }
  return defer(ctx, request, [&ctx, request, route, digest, target = *target](const Done& done) {
    fetch_blob(ctx, request, route, digest, target, done);
  });
}

std::optional<Response> refuse_proxied_push(const Context& ctx, std::string_view repository) {
  if (!ctx.state.upstreams || !ctx.state.upstreams->find(repository)) {
    return std::nullopt;
  }
  return error_response(405, "UNSUPPORTED",
                        "repository " + std::string(repository) + " is a pull-through cache: push to its upstream");
}

}  // namespace regd::daemon
