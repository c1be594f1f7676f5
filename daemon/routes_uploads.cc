// Blob uploads: POST /v2/<name>/blobs/uploads/ (start, single-POST ?digest=, ?mount=&from=) and
// GET/PATCH/PUT/DELETE /v2/<name>/blobs/uploads/<id>. Sessions live in storage only, so any
// instance serves any request of an upload; Location headers are relative and carry no state.
#include "error_table.h"
#include "http_util.h"
#include "log.h"
#include "regd/reference.h"
#include "request_limits.h"
#include "routes.h"

namespace regd::daemon {
namespace {

constexpr size_t k_max_upload_id = 128;

bool valid_upload_id(std::string_view id) {
  if (id.empty() || id.size() > k_max_upload_id) {
    return false;
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string upload_location(std::string_view name, std::string_view id) {
  return repo_path(name) + "/blobs/uploads/" + std::string(id);
}

// "0-<size-1>", and "0-0" for an empty session (as registry:2 answers).
std::string range_value(uint64_t size) {
  return "0-" + std::to_string(size == 0 ? 0 : size - 1);
}

void set_upload_headers(Response& r, std::string_view name, std::string_view id, uint64_t size) {
  r.set("Location", upload_location(name, id));
  r.set("Range", range_value(size));
  r.set("Docker-Upload-UUID", std::string(id));
}

Response upload_response(unsigned status, std::string_view name, const UploadStatus& upload) {
  Response r;
  r.status = status;
  set_upload_headers(r, name, upload.id, upload.size);
  return r;
}

Response blob_created(std::string_view name, const Digest& digest) {
  Response r;
  r.status = 201;
  r.set("Location", repo_path(name) + "/blobs/" + digest.str());
  r.set("Docker-Content-Digest", digest.str());
  return r;
}

// An upload error; range errors carry the session's current Range so the client can resume.
Response upload_error(Context& ctx, const Error& error, std::string_view name, std::string_view id) {
  auto r = error_response(error, Area::upload);
  if (r.status == 416) {
    if (auto status = ctx.registry.upload_status(name, id)) {
      set_upload_headers(r, name, id, status->size);
    }
  }
  return r;
}

// Streams a single-POST blob (digest known) into a BlobWriter.
class BlobSink : public BodySink {
 public:
  BlobSink(std::unique_ptr<BlobWriter> writer, std::string name, Digest digest)
      : m_writer(std::move(writer)), m_name(std::move(name)), m_digest(std::move(digest)) {}
  Status write(std::span<const char> data) override { return m_writer->write(data); }
  bool splits() const override { return true; }
  Status store(std::span<const char> data) override { return m_writer->store(data); }
  void hash(std::span<const char> data) override { m_writer->hash(data); }
  Response finish() override {
    if (auto info = m_writer->commit(); !info) {
      return error_response(info.error(), Area::upload);
    }
    return blob_created(m_name, m_digest);
  }
  Response on_error(const Error& error) override { return error_response(error, Area::upload); }

 private:
  std::unique_ptr<BlobWriter> m_writer;
  std::string m_name;
  Digest m_digest;
};

// Reads and drops the body of a single POST whose blob already exists.
class DiscardSink : public BodySink {
 public:
  explicit DiscardSink(Response done) : m_done(std::move(done)) {}
  Status write(std::span<const char>) override { return {}; }
  Response finish() override { return std::move(m_done); }
  Response on_error(const Error& error) override { return error_response(error, Area::upload); }

 private:
  Response m_done;
};

// Appends a PATCH/PUT body to a session; a PUT then finishes the upload with `digest` under the
// same lock. With a Content-Range, exactly its length must arrive, else the chunk is cut off.
class ChunkSink : public BodySink {
 public:
  // `single_post`: the session exists only for this request (checked_single_post), so a
  // refused or broken body cancels it rather than leaving it to the upload TTL.
  ChunkSink(Context& ctx, std::unique_ptr<UploadWriter> writer, std::string name, std::string id,
            std::optional<Digest> digest, std::optional<uint64_t> expected, bool single_post = false)
      : m_ctx(ctx),
        m_writer(std::move(writer)),
        m_name(std::move(name)),
        m_id(std::move(id)),
        m_digest(std::move(digest)),
        m_expected(expected),
        m_single_post(single_post) {}
  ~ChunkSink() override {
    if (m_single_post && m_writer) {
      m_writer.reset();
      (void)m_ctx.registry.cancel_upload(m_name, m_id);
    }
  }
  ChunkSink(const ChunkSink&) = delete;
  ChunkSink& operator=(const ChunkSink&) = delete;
  Status write(std::span<const char> data) override {
    auto stored = store(data);
    if (stored) {
      hash(data);
    }
    return stored;
  }
  bool splits() const override { return true; }
  Status store(std::span<const char> data) override {
    m_received += data.size();
    if (m_expected && m_received > *m_expected) {
      return range_mismatch();
    }
    return m_writer->store(data);
  }
  void hash(std::span<const char> data) override { m_writer->hash(data); }
  Response finish() override {
    if (m_expected && m_received != *m_expected) {
      return on_error(range_mismatch().error());
    }
    if (m_digest) {
      return commit(*m_digest);
    }
    auto status = m_writer->close();
    m_writer.reset();
    if (!status) {
      return upload_error(m_ctx, status.error(), m_name, m_id);
    }
    return upload_response(202, m_name, *status);
  }
  Response on_error(const Error& error) override {
    m_writer.reset();  // cuts the session back to where this chunk started
    if (m_single_post) {
      (void)m_ctx.registry.cancel_upload(m_name, m_id);
      return error_response(error, Area::upload);
    }
    return upload_error(m_ctx, error, m_name, m_id);
  }

 private:
  // A commit that fails on the digest cuts the chunk off again, so a retried PUT appends once.
  Response commit(const Digest& digest) {
    auto info = m_writer->commit(digest);
    m_writer.reset();
    if (!info) {
      if (m_single_post) {
        (void)m_ctx.registry.cancel_upload(m_name, m_id);
        return error_response(info.error(), Area::upload);
      }
      return upload_error(m_ctx, info.error(), m_name, m_id);
    }
    return blob_created(m_name, info->digest);
  }
  Status range_mismatch() const {
    return fail(Errc::range_invalid, "upload " + m_id + ": Content-Range announced " + std::to_string(*m_expected) +
                                         " bytes, the body has " + (m_received > *m_expected ? "more" : "fewer"));
  }

  Context& m_ctx;
  std::unique_ptr<UploadWriter> m_writer;
  std::string m_name;
  std::string m_id;
  std::optional<Digest> m_digest;
  std::optional<uint64_t> m_expected;  // bytes the Content-Range announced
  uint64_t m_received = 0;
  bool m_single_post = false;
};

// Starts a session within the quotas (--max-uploads-per-repository, --max-uploads-per-user).
std::expected<UploadStatus, Response> new_session(Context& ctx, const Request& request, const std::string& name,
                                                  DigestAlgorithm algorithm) {
  Limits* limits = ctx.state.limits.get();
  if (limits) {
    if (auto refused = limits->check_new_session(ctx.registry, name, request.user)) {
      ctx.state.metrics.rate_limited(RateLimit::upload_sessions);
      return std::unexpected(std::move(*refused));
    }
  }
  auto upload = ctx.registry.start_upload(name, algorithm);
  if (!upload) {
    return std::unexpected(error_response(upload.error(), Area::upload));
  }
  if (limits) {
    limits->record_session(request.user, name, upload->id);
  }
  return *upload;
}

uint64_t upload_limit(const Context& ctx) {
  return ctx.config.max_upload_size == 0 ? std::numeric_limits<uint64_t>::max() : ctx.config.max_upload_size;
}

// Tries ?mount=<digest>[&from=<repo>]; nullopt means "fall back to a new upload" (spec). With
// auth on, only from a repository the caller may pull: without `from`, or from one it may not
// pull, knowing a digest would be enough to read another repository's blob.
std::optional<Response> try_mount(Context& ctx, const Request& request, const std::string& name) {
  auto mount = query_value(request.query, "mount");
  if (!mount) {
    return std::nullopt;
  }
  auto digest = Digest::parse(*mount);
  if (!digest) {
    return std::nullopt;
  }
  auto from = query_value(request.query, "from");
  if (from && !validate_repository(*from)) {
    return std::nullopt;
  }
  if (request.permissions && (!from || !request.may_pull(*from))) {
    return std::nullopt;
  }
  auto info = ctx.registry.mount_blob(name, *digest, from ? std::optional<std::string_view>(*from) : std::nullopt);
  if (info) {
    return blob_created(name, *digest);
  }
  if (info.error().code == Errc::io_error || info.error().code == Errc::no_space) {
    return error_response(info.error(), Area::upload);
  }
  return std::nullopt;
}

// With auth on, a single POST goes through a session: the content arrives and is checked before
// anything is linked. (put_blob links a blob already stored before the body is read: knowing a
// digest would be enough to read another repository's blob.)
Outcome checked_single_post(Context& ctx, const Request& request, const std::string& name, const Digest& digest) {
  auto upload = new_session(ctx, request, name, digest.algorithm());
  if (!upload) {
    return std::move(upload.error());
  }
  auto writer = ctx.registry.append_upload(name, upload->id, 0);
  if (!writer) {
    (void)ctx.registry.cancel_upload(name, upload->id);
    return error_response(writer.error(), Area::upload);
  }
  return Outcome(std::make_unique<ChunkSink>(ctx, std::move(*writer), name, upload->id, digest, std::nullopt, true),
                 upload_limit(ctx));
}

Outcome single_post(Context& ctx, const Request& request, const std::string& name, const std::string& digest_text) {
  auto digest = Digest::parse(digest_text);
  if (!digest) {
    return error_response(digest.error(), Area::upload);
  }
  if (request.permissions) {
    return checked_single_post(ctx, request, name, *digest);
  }
  auto writer = ctx.registry.put_blob(name, *digest);
  if (!writer) {
    return error_response(writer.error(), Area::upload);
  }
  if (!*writer) {
    return Outcome(std::make_unique<DiscardSink>(blob_created(name, *digest)), upload_limit(ctx));
  }
  return Outcome(std::make_unique<BlobSink>(std::move(*writer), name, *digest), upload_limit(ctx));
}

// The range a chunk claims (Content-Range), checked against its Content-Length; the body
// itself is checked against it as it arrives (ChunkSink).
Result<std::optional<ByteRange>> chunk_range(const Request& request) {
  auto header = request.header("Content-Range");
  if (header.empty()) {
    return std::nullopt;
  }
  auto range = parse_content_range(header);
  if (!range) {
    return std::unexpected(range.error());
  }
  if (request.content_length && *request.content_length != range->last - range->first + 1) {
    return fail(Errc::range_invalid, "Content-Range " + std::string(header) + " does not match Content-Length");
  }
  return *range;
}

Outcome append(Context& ctx, const Request& request, const Route& route, std::optional<Digest> digest) {
  auto range = chunk_range(request);
  if (!range) {
    return upload_error(ctx, range.error(), route.name, route.ref);
  }
  std::optional<uint64_t> offset;
  std::optional<uint64_t> length;
  if (*range) {
    offset = (*range)->first;
    length = (*range)->last - (*range)->first + 1;
  }
  auto writer = ctx.registry.append_upload(route.name, route.ref, offset);
  if (!writer) {
    return upload_error(ctx, writer.error(), route.name, route.ref);
  }
  return Outcome(std::make_unique<ChunkSink>(ctx, std::move(*writer), route.name, route.ref, std::move(digest), length),
                 upload_limit(ctx));
}

Outcome put_upload(Context& ctx, const Request& request, const Route& route) {
  auto digest_text = query_value(request.query, "digest");
  if (!digest_text) {
    return error_response(400, "DIGEST_INVALID", "the digest parameter is required to finish an upload");
  }
  auto digest = Digest::parse(*digest_text);
  if (!digest) {
    return error_response(digest.error(), Area::upload);
  }
  if (request.has_body()) {
    return append(ctx, request, route, *digest);
  }
  auto info = ctx.registry.finish_upload(route.name, route.ref, *digest);
  if (!info) {
    return upload_error(ctx, info.error(), route.name, route.ref);
  }
  return blob_created(route.name, info->digest);
}

Response status_or_cancel(Context& ctx, const Request& request, const Route& route) {
  if (request.method == Method::del) {
    if (auto cancelled = ctx.registry.cancel_upload(route.name, route.ref); !cancelled) {
      return error_response(cancelled.error(), Area::upload);
    }
    Response r;
    r.status = 204;
    return r;
  }
  auto status = ctx.registry.upload_status(route.name, route.ref);
  if (!status) {
    return error_response(status.error(), Area::upload);
  }
  return upload_response(204, route.name, *status);
}

// ?digest-algorithm=sha512 (spec): the session hashes with it. Errors: unsupported (an unknown one).
Result<DigestAlgorithm> upload_algorithm(const Request& request) {
  auto name = query_value(request.query, "digest-algorithm").value_or("sha256");
  for (DigestAlgorithm algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
    if (name == algorithm_name(algorithm)) {
      return algorithm;
    }
  }
  return fail(Errc::unsupported, "digest algorithm " + name + " is not supported (sha256, sha512)");
}

}  // namespace

Outcome handle_upload_start(Context& ctx, const Request& request, const Route& route) {
  if (request.method != Method::post) {
    return method_not_allowed("POST");
  }
  if (auto valid = validate_repository(route.name); !valid) {
    return error_response(valid.error(), Area::upload);
  }
  if (auto refused = refuse_proxied_push(ctx, route.name)) {
    return std::move(*refused);
  }
  if (auto mounted = try_mount(ctx, request, route.name)) {
    return std::move(*mounted);
  }
  if (auto digest = query_value(request.query, "digest")) {
    return single_post(ctx, request, route.name, *digest);
  }
  auto algorithm = upload_algorithm(request);
  if (!algorithm) {
    return error_response(algorithm.error(), Area::upload);
  }
  auto upload = new_session(ctx, request, route.name, *algorithm);
  if (!upload) {
    return std::move(upload.error());
  }
  return upload_response(202, route.name, *upload);
}

Outcome handle_upload(Context& ctx, const Request& request, const Route& route) {
  if (auto valid = validate_repository(route.name); !valid) {
    return error_response(valid.error(), Area::upload);
  }
  if (!valid_upload_id(route.ref)) {
    return error_response(404, "BLOB_UPLOAD_UNKNOWN", "no upload session " + route.ref);
  }
  switch (request.method) {
    case Method::get:
    case Method::head:
    case Method::del:
      return status_or_cancel(ctx, request, route);
    case Method::patch:
      return append(ctx, request, route, std::nullopt);
    case Method::put:
      return put_upload(ctx, request, route);
    default:
      return method_not_allowed("GET, PATCH, PUT, DELETE");
  }
}

}  // namespace regd::daemon
