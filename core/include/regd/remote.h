// A client of other registries: the OCI distribution API over HTTP/HTTPS (cpp-httplib with
// OpenSSL). Manifests of every media type, blobs streamed and verified against their digest
// (resumed with Range after a dropped connection), monolithic and chunked uploads, cross-repository
// mounts, tag lists and the referrers API. Anonymous, Basic and Bearer-token authentication with
// credentials from the auth files podman, skopeo and docker use. Retries 429 and 5xx answers with
// back-off, honouring Retry-After. Built as its own library (regd_remote), linked by regctl (docker://,
// sync) and regd (the pull-through cache of --upstream); the core library stays free of HTTP.
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

#include "regd/digest.h"
#include "regd/error.h"
#include "regd/registry.h"

namespace regd::remote {

// docker://HOST[:PORT]/REPO[:TAG|@DIGEST], skopeo's spelling (the "docker://" is optional).
// HOST is a name or an IPv4 address or a bracketed IPv6 address; the repository follows the
// spec's grammar. Errors: invalid_argument, name_invalid, tag_invalid, digest_invalid.
struct RemoteRef {
  std::string host;  // "HOST[:PORT]" as written
  std::string repository;
  std::optional<std::string> tag;
  std::optional<Digest> digest;

  [[nodiscard]] static Result<RemoteRef> parse(std::string_view text);
  // The digest when set, else the tag, else "latest".
  std::string target() const;
  std::string str() const;  // docker://HOST/REPO[:TAG][@DIGEST]
};

// True when `text` starts with "docker://".
bool is_docker_ref(std::string_view text);

struct Credentials {
  std::string username;
  std::string password;
};

struct ClientOptions {
  // Verify the server's certificate (system CAs, or ca_file). When false, HTTPS without
  // verification is tried first and plain HTTP when the server speaks no TLS (as skopeo).
  bool tls_verify = true;
  std::string ca_file;    // PEM bundle of trusted CAs; empty: the system's
  std::string auth_file;  // --authfile; empty: REGISTRY_AUTH_FILE, the containers and docker files
  // Speak plain HTTP from the start, never TLS (an http:// upstream of regd on a private network).
  bool plain_http = false;
  // Given explicitly: wins over every auth file (an empty username: anonymous, no lookup).
  std::optional<Credentials> credentials;
  int max_retries = 4;                               // extra attempts after a 429, a 5xx or a failed connection
  std::chrono::milliseconds retry_delay{500};        // first back-off; doubles each attempt
  std::chrono::milliseconds max_retry_delay{30000};  // a Retry-After beyond this is cut to it
  int max_resumes = 5;                               // Range re-requests of one blob after a drop
  uint64_t chunk_size = 0;                           // 0: monolithic uploads; else PATCH chunks of this many bytes
  std::chrono::seconds timeout{60};                  // connect and per-read/-write timeout
  // How the client waits between attempts (tests record the delays instead of sleeping).
  std::function<void(std::chrono::milliseconds)> sleep;
};

// What the client did, for reports and tests.
struct ClientStats {
  uint64_t requests = 0;       // HTTP requests sent, every attempt counted
  uint64_t retries = 0;        // attempts repeated after a 429, 5xx or a failed connection
  uint64_t resumes = 0;        // blob downloads continued with Range
  uint64_t bytes_down = 0;     // blob bytes received
  uint64_t bytes_up = 0;       // blob bytes sent
  uint64_t token_fetches = 0;  // Bearer tokens requested
};

// Receives blob data in order; an error stops the transfer and is returned as is.
using BlobSink = std::function<Status(std::span<const char>)>;
// Reads blob data at an offset into the buffer; returns the count (0 only at the end).
using BlobSource = std::function<Result<size_t>(uint64_t offset, std::span<char> buf)>;

// One registry host. Errors of every call: io_error (connection, TLS, a 5xx or 429 still failing
// after the retries; the message names the host and what failed), denied (a certificate that does
// not verify, 401/403 after authenticating), invalid_argument (the answer breaks the protocol).
// Not thread-safe.
class Client {
 public:
  virtual ~Client() = default;
  virtual const std::string& host() const = 0;

  // Fetches a manifest or index of any media type (OCI, Docker schema 2, lists), byte-exact.
  // A digest reference is verified against the content. Errors: manifest_unknown, name_unknown,
  // digest_invalid (content does not match), too_large (over 4 MiB).
  [[nodiscard]] virtual Result<Manifest> get_manifest(std::string_view repo, std::string_view reference) = 0;
  // The manifest's digest when it exists, nullopt when not (HEAD).
  [[nodiscard]] virtual Result<std::optional<Digest>> head_manifest(std::string_view repo,
                                                                    std::string_view reference) = 0;
  // Stores a manifest under a tag or its digest. Errors: what the registry says (manifest_invalid,
  // manifest_blob_unknown, ...), mapped from the spec error code.
  [[nodiscard]] virtual Status put_manifest(std::string_view repo, std::string_view reference,
                                            std::string_view media_type, std::string_view content) = 0;
  // A blob's size when the repository has it, nullopt when not (HEAD).
  [[nodiscard]] virtual Result<std::optional<uint64_t>> stat_blob(std::string_view repo, const Digest& digest) = 0;
  // Streams a blob into `sink`, hashing it; after a dropped connection it re-requests the rest
  // with Range (at most max_resumes times, checking Content-Range). Returns only after the whole
  // content matched `digest` and `size`: the sink must not commit before. Errors: blob_unknown,
  // digest_invalid (content does not match), io_error (dropped too often), the sink's errors.
  [[nodiscard]] virtual Status get_blob(std::string_view repo, const Digest& digest, uint64_t size,
                                        const BlobSink& sink) = 0;
  // Uploads a blob of `size` bytes read from `source` (monolithic, or chunked with chunk_size).
  // A failed attempt starts a new upload session. Errors: digest_invalid (the registry refused
  // the digest), the source's errors.
  [[nodiscard]] virtual Status put_blob(std::string_view repo, const Digest& digest, uint64_t size,
                                        const BlobSource& source) = 0;
  // Cross-repository mount from `from` on the same host. True when mounted; false when the
  // registry started an upload instead (that session is cancelled) or refused.
  [[nodiscard]] virtual Result<bool> mount_blob(std::string_view repo, const Digest& digest, std::string_view from) = 0;
  // Every tag (following the Link header's pages). Errors: name_unknown.
  [[nodiscard]] virtual Result<std::vector<std::string>> list_tags(std::string_view repo) = 0;
  // Manifests whose subject is `subject` (the referrers API; a registry without it answers 404:
  // an empty list then).
  [[nodiscard]] virtual Result<std::vector<Descriptor>> list_referrers(std::string_view repo,
                                                                       const Digest& subject) = 0;

  virtual const ClientStats& stats() const = 0;
};

// A client of `host` ("HOST[:PORT]"). Credentials are looked up now: options.credentials, else
// the first auth file that names the host (see find_credentials in docs/regctl.md); anonymous
// when none does. Errors: invalid_argument (an auth file that does not parse, an unreadable CA).
[[nodiscard]] Result<std::unique_ptr<Client>> make_client(std::string_view host, const ClientOptions& options);

}  // namespace regd::remote
