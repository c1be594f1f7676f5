// The daemon's view of one HTTP exchange, independent of the HTTP engine: route handlers see a
// Request and produce a Response (or a BodySink that consumes the request body first). Only
// session.cc knows Beast; handlers stay plain synchronous functions that are easy to test.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"
#include "regd/storage.h"
#include "route_kind.h"

namespace regd::daemon {

// ASCII case-insensitive equality (header names, token values).
bool iequals(std::string_view a, std::string_view b);

enum class Method { get, head, post, put, patch, del, other };

struct Header {
  std::string name;
  std::string value;
};

// What the caller of one request may see beyond the route's own check; set by the
// authentication step of dispatch() (auth.h). Thread-safe.
class Permissions {
 public:
  virtual ~Permissions() = default;
  // This request's credentials allow pulling from `repository` (a mount's source).
  virtual bool may_pull(std::string_view repository) const = 0;
  // The catalog may name `repository` to this caller (the rules allow it a pull there).
  virtual bool may_list(std::string_view repository) const = 0;
};

struct Request {
  Method method = Method::other;
  std::string method_name;  // as sent, for logs
  std::string target;       // raw request target, e.g. "/v2/a/tags/list?n=2"
  std::string path;         // target up to '?', not percent-decoded
  std::string query;        // target after '?', raw
  std::vector<Header> headers;
  std::optional<uint64_t> content_length;
  bool chunked = false;
  std::string request_id;
  RouteKind route = RouteKind::not_found;  // set by dispatch()
  std::string remote_address;              // the peer's IP address (no port), as the socket reports it
  bool secure = false;                     // arrived over TLS on regd's own listener
  // The subject CN of a verified TLS client certificate (--tls-client-ca); empty without one.
  std::string tls_client_cn;
  // Set by the authentication step of dispatch(): the authenticated user, empty for anonymous
  // requests. Rate limits and the access log use it.
  std::string user;
  // Set by dispatch(): the repository the path names (Route::name, as given), for the access log.
  std::string repository_name;
  // Set with `user` when auth is on; null when it is off (everything allowed).
  std::shared_ptr<const Permissions> permissions;

  // Value of the first header called `name` (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const;
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
  bool may_pull(std::string_view repository) const { return !permissions || permissions->may_pull(repository); }
  bool may_list(std::string_view repository) const { return !permissions || permissions->may_list(repository); }
};

// A response body produced while it is sent (a blob a pull-through cache fetches from its
// upstream): the session sends what is there and waits for more without blocking its thread.
// Used by one session at a time.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Copies up to buf.size() bytes at `offset` (the bytes sent so far); 0 when none are there yet.
  // An error ends the response by closing the connection: the client sees a short body.
  [[nodiscard]] virtual Result<size_t> read(uint64_t offset, std::span<char> buf) = 0;
  // Calls `ready` once, from any thread (at once when there is something), when read(offset)
  // has bytes or an error for the session.
  virtual void on_ready(uint64_t offset, std::function<void()> ready) = 0;
};

struct Response {
  unsigned status = 200;
  std::vector<Header> headers;
  // A small in-memory body (JSON, manifests). For HEAD the session sends no body but keeps an
  // explicit Content-Length header set by the handler.
  std::string body;
  // Blob content, sent with sendfile: `file_length` bytes from `file_offset`.
  std::unique_ptr<ReadFile> file;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  // Instead of `file`: a body of `file_length` bytes still being produced.
  std::shared_ptr<BodyStream> stream;
  // Close the connection after this response.
  bool close = false;

  // Replaces every header called `name`.
  void set(std::string_view name, std::string value);
  // Adds a header (repeatable ones such as Link).
  void add(std::string_view name, std::string value);
  // Value of header `name`, or nullptr.
  const std::string* find(std::string_view name) const;
};

// Consumes a request body chunk by chunk (the session reads it in >= 1 MiB pieces and never
// holds more). Exactly one of finish() or on_error() ends its life.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Errors end the request: the session then calls on_error() and stops reading.
  [[nodiscard]] virtual Status write(std::span<const char> data) = 0;
  // A sink that can take a piece as two halves that may run at the same time on two storage
  // workers over the same bytes (the file, and the digest) says so; the session then calls
  // store() and hash() instead of write(), both done before the next piece.
  virtual bool splits() const { return false; }
  [[nodiscard]] virtual Status store(std::span<const char> data) { return write(data); }
  virtual void hash(std::span<const char> /*data*/) {}
  // The whole body was written; commits and builds the response.
  virtual Response finish() = 0;
  // The response for a failed write() or an over-limit body.
  virtual Response on_error(const Error& error) = 0;
};

// What a handler returns: a response now, or a sink for the body first.
struct Outcome {
  Response response;
  std::unique_ptr<BodySink> sink;
  // Largest body the sink accepts; a longer body fails with too_large (413).
  uint64_t body_limit = std::numeric_limits<uint64_t>::max();
  // Work that must not run on the event loop (a request to an upstream registry): when set, the
  // session calls it once and waits, without blocking its thread, for it to call its argument
  // once, from any thread, with the response. A request with a deferred outcome has no body.
  std::function<void(std::function<void(Response)>)> deferred;

  Outcome() = default;
  Outcome(Response r) : response(std::move(r)) {}  // NOLINT: implicit on purpose
  Outcome(std::unique_ptr<BodySink> s, uint64_t limit) : sink(std::move(s)), body_limit(limit) {}
};

}  // namespace regd::daemon
