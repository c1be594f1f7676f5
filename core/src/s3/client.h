// A client for the S3 operations the object-storage backend needs (docs/adr/0002): objects by
// key under one bucket, conditional create, copy (also onto itself), listings by prefix with
// continuation, multipart uploads, ranged reads streamed to a callback. Every request is signed
// (sigv4.h) and sent with cpp-httplib; errors come back as values: 404 not_found, 412 exists
// (a conditional create lost), 403 denied, 507 and quota errors no_space, anything else
// io_error with the service's code and message (never the credentials).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"
#include "s3/sigv4.h"

namespace httplib {
class Client;
}

namespace regd::s3 {

struct Endpoint {
  std::string url;     // http://host:port or https://host:port, no path
  std::string bucket;  // path-style addressing: /<bucket>/<key>
  Scope scope;
  Credentials credentials;
  // Keys under this prefix appear without it in error messages, which reach HTTP clients: they
  // name storage paths, never where the root lives.
  std::string shown_prefix;
};

struct ObjectInfo {
  uint64_t size = 0;
  std::chrono::system_clock::time_point last_modified;
  // What a file system's mtime would be: the time a copy carried over from its source
  // (copy(..., keep_mtime), as rename(2) keeps an mtime), else last_modified. Only head() sees it.
  std::chrono::system_clock::time_point mtime;
  std::string etag;  // as the service sends it, quotes included
};

struct ListedObject {
  std::string key;
  ObjectInfo info;
};

struct Listing {
  std::vector<std::string> prefixes;  // with a delimiter: the "subdirectories", each ending in it
  std::vector<ListedObject> objects;
  std::string next_token;  // empty on the last page
  // The service's clock when it answered (its Date header; whole seconds): leases expire by it,
  // never by ours.
  std::chrono::system_clock::time_point server_time;
};

struct Part {
  int number = 0;
  std::string etag;
};

class Client {
 public:
  explicit Client(Endpoint endpoint);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Errors: not_found, denied, io_error.
  [[nodiscard]] Result<ObjectInfo> head(const std::string& key);
  // A whole small object. Errors: not_found, too_large (over max_size), denied, io_error.
  [[nodiscard]] Result<std::string> get(const std::string& key, size_t max_size);
  // `length` bytes from `offset`, handed to `sink` as they arrive (never held whole); a sink
  // returning false stops the transfer (io_error). Errors: not_found, range_invalid, denied,
  // io_error.
  [[nodiscard]] Status get_range(const std::string& key, uint64_t offset, uint64_t length,
                                 const std::function<bool(std::span<const char>)>& sink);
  // Writes the object; with `create_only`, only when no object has the key (exists otherwise).
  // Returns the new ETag. Errors: exists, denied, no_space, io_error.
  [[nodiscard]] Result<std::string> put(const std::string& key, std::string_view body, bool create_only = false);
  // Missing is success. Errors: denied, io_error.
  [[nodiscard]] Status remove(const std::string& key);
  // Server-side copy; onto itself it refreshes LastModified (and drops a kept mtime). With
  // `keep_mtime`, the copy records that time as its mtime (head()). Errors: not_found, denied,
  // io_error.
  [[nodiscard]] Status copy(const std::string& from, const std::string& to,
                            std::optional<std::chrono::system_clock::time_point> keep_mtime = std::nullopt);
  // One page of keys under `prefix` (in key order), after `token`. Errors: denied, io_error.
  [[nodiscard]] Result<Listing> list(const std::string& prefix, std::string_view delimiter, const std::string& token,
                                     int max_keys = 1000);

  // Whether the bucket exists. Errors: not_found, denied, io_error.
  [[nodiscard]] Status head_bucket();
  // Creates the bucket (an existing one of ours is success). Errors: denied, io_error.
  [[nodiscard]] Status create_bucket();
  // A URL that GETs `key` without credentials until `expires` from now (SigV4 query signing).
  std::string presign_get(const std::string& key, std::chrono::seconds expires) const;

  // Errors: denied, io_error.
  [[nodiscard]] Result<std::string> create_multipart(const std::string& key);
  // Returns the part's ETag. Errors: not_found (no such upload), denied, no_space, io_error.
  [[nodiscard]] Result<std::string> upload_part(const std::string& key, const std::string& upload_id, int number,
                                                std::span<const char> data);
  // Part `number` copied server-side from `length` bytes of object `from` at `offset` (at most
  // 5 GiB). Returns the part's ETag. Errors: not_found, denied, no_space, io_error.
  [[nodiscard]] Result<std::string> upload_part_copy(const std::string& key, const std::string& upload_id, int number,
                                                     const std::string& from, uint64_t offset, uint64_t length);
  // Errors: not_found, invalid_argument (a part the service refuses), denied, io_error.
  [[nodiscard]] Status complete_multipart(const std::string& key, const std::string& upload_id,
                                          const std::vector<Part>& parts);
  // Missing is success. Errors: denied, io_error.
  [[nodiscard]] Status abort_multipart(const std::string& key, const std::string& upload_id);

 private:
  struct Reply;
  Reply send(const std::string& method, const std::string& key, std::vector<std::pair<std::string, std::string>> query,
             std::string_view body, std::vector<std::pair<std::string, std::string>> headers,
             const std::function<bool(std::span<const char>)>* sink = nullptr);

  std::string shown(const std::string& key) const;

  Endpoint m_endpoint;
  std::string m_host;
  std::unique_ptr<httplib::Client> m_http;
};

}  // namespace regd::s3
