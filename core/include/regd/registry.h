// The registry: blobs, upload sessions, manifests, tags, referrers and listings over a Storage,
// on the on-disk layout of registry:2 (docs/storage-layout.md). Stateless: every call reads
// storage afresh, so any number of processes on any hosts may share one storage tree.
// All methods are thread-safe. Repository names, tags and digests are validated by every call
// (name_invalid, tag_invalid, digest_invalid) before any path is built.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "regd/digest.h"
#include "regd/error.h"
#include "regd/storage.h"

namespace regd {

namespace media_type {
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view oci_empty = "application/vnd.oci.empty.v1+json";
}  // namespace media_type

struct RegistryOptions {
  uint64_t max_manifest_size = 4 * 1024 * 1024;
  // A blob link a writer relies on is re-touched when older than this, so that GC (whose grace
  // window must be longer) never collects it. See design.md, "Online garbage collection".
  std::chrono::seconds refresh_after{600};
  // Tag patterns ('*' any run of characters, '?' one character; e.g. "v*", "release-*") whose
  // tags, once set, never move to another digest and are never deleted: set_tag, put_manifest,
  // delete_tag and delete_manifest fail with immutable instead. Setting such a tag to the digest
  // it already has is not a move and succeeds. Every process given the same patterns enforces
  // the same rule (the check reads the tag from storage; two writers racing to create the same
  // new tag are last-writer-wins, as every tag write is).
  std::vector<std::string> immutable_tags;
  // Bytes of stored manifests kept in memory by digest, with what their parse found: content
  // addressed, so never stale. Tags and revision links are read from storage on every call all
  // the same (a deleted manifest is gone at once); only the content's read and parse are saved.
  // 0: nothing is kept, every GET reads and parses the stored bytes.
  size_t manifest_cache_size = 64 * 1024 * 1024;
  // A repository with at least this many tags keeps a sorted list of their names beside its
  // tag directory, rebuilt from the directory whenever that changed, so that a tags/list page
  // costs the page rather than a read of every tag (docs/scaling.md, "Listings"). 0: never.
  size_t tag_list_min = 1000;
  // Likewise for _catalog: a directory of repositories (the root, or a namespace such as
  // "library") with at least this many keeps a sorted list of their names under _regd/catalog/.
  // 0: never.
  size_t catalog_list_min = 1000;
};

// True when `tag` matches one of `patterns` (RegistryOptions::immutable_tags syntax).
bool tag_matches_any(std::string_view tag, const std::vector<std::string>& patterns);

// Tag patterns as users write them: comma-separated, blanks trimmed, empty ones dropped ("v*,
// release-*"). Errors: invalid_argument naming a pattern with other than tag characters, '*'
// and '?', or longer than 128 characters.
[[nodiscard]] Result<std::vector<std::string>> parse_tag_patterns(std::string_view text);

struct BlobInfo {
  Digest digest;
  uint64_t size = 0;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  uint64_t size = 0;
  std::string artifact_type;                       // empty when absent
  std::map<std::string, std::string> annotations;  // empty when absent
};

struct Manifest {
  Digest digest;
  std::string media_type;
  std::string content;  // byte-exact as pushed

  // The descriptor that points at this manifest (no artifact type or annotations).
  Descriptor descriptor() const {
    return {.media_type = media_type, .digest = digest, .size = content.size(), .artifact_type = {}, .annotations = {}};
  }
};

struct ManifestPutResult {
  Digest digest;
  std::optional<Digest> subject;  // set when the manifest has a subject (OCI-Subject header)
  std::vector<std::string> tags;  // the `tags` argument, all set (one OCI-Tag header each)
};

struct UploadStatus {
  std::string id;  // a UUID
  uint64_t size = 0;
  Clock::time_point started_at;
};

// What Registry::delete_repository removed.
struct RepositoryRemoval {
  uint64_t tags = 0;
  uint64_t manifests = 0;
};

// One page of a sorted listing.
struct Page {
  std::vector<std::string> items;  // lexically sorted, all > `last`
  bool more = false;               // items remain after this page
};

// Streams the content of a new blob whose digest is known in advance; nothing is visible until
// commit() has verified digest and size. Destroying it uncommitted leaves no trace.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // write() is store() then hash(). The two may also run at the same time on two threads over
  // the same bytes (a server overlaps the copy into the file with the hashing); both must have
  // returned before the next piece, and a failed store() fails the writer.
  [[nodiscard]] Status write(std::span<const char> data) {
    if (auto stored = store(data); !stored) {
      return stored;
    }
    hash(data);
    return {};
  }
  Status write(std::string_view data) { return write(std::span<const char>(data.data(), data.size())); }
  [[nodiscard]] virtual Status store(std::span<const char> data) = 0;
  virtual void hash(std::span<const char> data) = 0;
  // Errors: digest_invalid (content does not match), size_invalid, no_space, io_error.
  [[nodiscard]] virtual Result<BlobInfo> commit() = 0;
};

// Appends one chunk to an upload session while holding its lock. close() persists the hash state
// and releases the lock; destroying it without close() or commit() cuts the data back to where
// it started. A writer must not outlive the Registry that made it.
class UploadWriter {
 public:
  virtual ~UploadWriter() = default;
  // write() is store() then hash(), which may also run at the same time as BlobWriter's do.
  [[nodiscard]] Status write(std::span<const char> data) {
    if (auto stored = store(data); !stored) {
      return stored;
    }
    hash(data);
    return {};
  }
  [[nodiscard]] virtual Status store(std::span<const char> data) = 0;
  virtual void hash(std::span<const char> data) = 0;
  Status write(std::string_view data) { return write(std::span<const char>(data.data(), data.size())); }
  virtual uint64_t size() const = 0;  // session size including this chunk so far
  [[nodiscard]] virtual Result<UploadStatus> close() = 0;
  // Ends the chunk and finishes the upload as Registry::finish_upload does, under the same lock
  // (a PUT that carries the last chunk). On digest_invalid the chunk is cut off again, so the
  // session is exactly as it was before this writer and a retried PUT sees the same state.
  // Errors: as finish_upload, and as write.
  [[nodiscard]] virtual Result<BlobInfo> commit(const Digest& digest) = 0;
};

class Registry {
 public:
  virtual ~Registry() = default;

  // ---- blobs ----
  // Size of a blob the repository may serve (its layer link exists and the data exists).
  // Refreshes an old link (RegistryOptions::refresh_after) as a courtesy to a client that skips
  // a push after it: best effort, a read never fails because the storage refuses the touch
  // (a read-only mount). Errors: blob_unknown, io_error.
  [[nodiscard]] virtual Result<BlobInfo> stat_blob(std::string_view repo, const Digest& digest) = 0;
  // Opens a blob for reading (offsets, sendfile); refreshes the link as stat_blob does, best
  // effort. Errors: blob_unknown, io_error.
  [[nodiscard]] virtual Result<std::unique_ptr<ReadFile>> open_blob(std::string_view repo, const Digest& digest) = 0;
  // A URL from which a client without credentials can GET the blob's data for `ttl`: a
  // presigned URL on S3 (Storage::presign_get), nullopt on storage without URLs (POSIX). Checks
  // nothing, not even that the blob exists: REQUIRES the caller to have established that the
  // repository may serve it (stat_blob) and that the client may pull it.
  [[nodiscard]] virtual std::optional<std::string> blob_url(const Digest& digest, std::chrono::seconds ttl) = 0;
  // Removes the repository's link to the blob (the data stays for GC). Errors: blob_unknown.
  [[nodiscard]] virtual Status delete_blob(std::string_view repo, const Digest& digest) = 0;
  // Links an existing blob into `repo`. With `from`, only a blob `from` may serve; without it,
  // any stored blob. Errors: blob_unknown (not found, the caller then starts an upload).
  [[nodiscard]] virtual Result<BlobInfo> mount_blob(std::string_view repo, const Digest& digest,
                                                    std::optional<std::string_view> from) = 0;
  // Writes a blob whose digest is known. When the data already exists, returns nullptr after
  // linking it into `repo` (the caller need not send the content).
  [[nodiscard]] virtual Result<std::unique_ptr<BlobWriter>> put_blob(std::string_view repo, const Digest& digest) = 0;

  // ---- upload sessions (kept entirely in storage) ----
  // Starts a session whose content is hashed with `algorithm` as it arrives (the POST's
  // ?digest-algorithm=); finishing it with a digest of another algorithm costs a re-read.
  [[nodiscard]] virtual Result<UploadStatus> start_upload(std::string_view repo,
                                                          DigestAlgorithm algorithm = DigestAlgorithm::sha256) = 0;
  // Errors: upload_unknown.
  [[nodiscard]] virtual Result<UploadStatus> upload_status(std::string_view repo, std::string_view id) = 0;
  // Locks the session and checks that `offset` (when given) equals its current size.
  // Errors: upload_unknown, range_invalid (offset differs), conflict (another request is
  // appending; callers may report it as range_invalid).
  [[nodiscard]] virtual Result<std::unique_ptr<UploadWriter>> append_upload(std::string_view repo, std::string_view id,
                                                                            std::optional<uint64_t> offset) = 0;
  // Verifies the content against `digest` (from the stored hash state; a missing state means a
  // re-hash), moves it into the blob store, links it into `repo` and removes the session.
  // Errors: upload_unknown, digest_invalid (mismatch; the session stays), conflict.
  [[nodiscard]] virtual Result<BlobInfo> finish_upload(std::string_view repo, std::string_view id,
                                                       const Digest& digest) = 0;
  // Errors: upload_unknown.
  [[nodiscard]] virtual Status cancel_upload(std::string_view repo, std::string_view id) = 0;
  // Upload sessions in the repository's _uploads directory (each published session directory,
  // also one a crash left half-removed until GC takes it; never the temp directories of sessions
  // being created). Read from storage, so every process counts alike. Errors: io_error.
  [[nodiscard]] virtual Result<size_t> count_uploads(std::string_view repo) = 0;

  // ---- manifests and tags ----
  // Validates and stores a manifest; `reference` is a tag or the manifest's digest, `tags` are
  // further tags to point at it. `content_type` may be empty (then the manifest's mediaType
  // decides). Touches the links of everything it references before checking them exist.
  // A tag keeps the digest algorithm of the reference (a manifest pushed as sha512:... is tagged
  // with its sha512 digest). Errors: manifest_invalid, manifest_blob_unknown, digest_invalid
  // (reference digest differs from the content), tag_invalid, too_large, unsupported (media
  // type), immutable (a tag matching RegistryOptions::immutable_tags points elsewhere).
  [[nodiscard]] virtual Result<ManifestPutResult> put_manifest(std::string_view repo, std::string_view reference,
                                                               std::string_view content_type, std::string_view content,
                                                               const std::vector<std::string>& tags = {}) = 0;
  // By tag or digest. Errors: manifest_unknown, name_unknown.
  [[nodiscard]] virtual Result<Manifest> get_manifest(std::string_view repo, std::string_view reference) = 0;
  // Removes the manifest's revision link, every tag of `repo` pointing at it, and its referrers
  // entry. Errors: manifest_unknown, immutable (an immutable tag points at it; nothing removed).
  [[nodiscard]] virtual Status delete_manifest(std::string_view repo, const Digest& digest) = 0;
  // Errors: manifest_unknown, immutable.
  [[nodiscard]] virtual Status delete_tag(std::string_view repo, std::string_view tag) = 0;
  // Points `tag` at a manifest already in `repo` (last writer wins). Errors: manifest_unknown,
  // immutable.
  [[nodiscard]] virtual Status set_tag(std::string_view repo, std::string_view tag, const Digest& digest) = 0;

  // Deletes a whole repository the way single deletes do, safe while other processes serve it:
  // every tag (current link first), every manifest revision link, the referrers index and the
  // layer links; blob data stays for GC. Upload sessions in progress are left to finish or to
  // expire (GC's upload TTL), and repositories nested below `repo` are untouched. The repository
  // then leaves the catalog. Nothing is removed when an immutable tag (RegistryOptions::
  // immutable_tags) exists. A push racing the delete may fail (its blobs were unlinked) or
  // re-create the repository; it never corrupts one. Errors: name_unknown, immutable, io_error.
  [[nodiscard]] virtual Result<RepositoryRemoval> delete_repository(std::string_view repo) = 0;

  // ---- listings: memory bounded by n, not by the number of entries ----
  // A repository exists for listings while it holds a manifest: one without (never pushed to, or
  // emptied by deletes) is not in the catalog and its tag list is name_unknown; one whose tags
  // were all deleted lists no tags. Errors: name_unknown.
  [[nodiscard]] virtual Result<Page> list_tags(std::string_view repo, size_t n, std::string_view last) = 0;
  [[nodiscard]] virtual Result<Page> list_repositories(size_t n, std::string_view last) = 0;
  // Manifest digests stored in the repository (revision links), unordered.
  [[nodiscard]] virtual Result<std::vector<Digest>> list_manifests(std::string_view repo) = 0;

  // ---- referrers ----
  // Manifests in `repo` whose subject is `subject`, optionally only those of `artifact_type`.
  // An unknown subject yields an empty list.
  [[nodiscard]] virtual Result<std::vector<Descriptor>> list_referrers(
      std::string_view repo, const Digest& subject, std::optional<std::string_view> artifact_type) = 0;
  // Rebuilds the repository's referrers index from its revision links.
  [[nodiscard]] virtual Status rebuild_referrers(std::string_view repo) = 0;

  // ---- pull-through cache (regd --upstream; docs/mirror.md) ----
  // Stores a manifest fetched from an upstream registry as put_manifest does, except that the
  // blobs and child manifests it references need not be present yet: a cache fetches them when
  // a client asks for them. `reference` is a tag (set to the manifest, which also marks it
  // validated now) or the manifest's digest. Errors: as put_manifest, minus manifest_blob_unknown.
  [[nodiscard]] virtual Result<ManifestPutResult> cache_manifest(std::string_view repo, std::string_view reference,
                                                                 std::string_view content_type,
                                                                 std::string_view content) = 0;
  // When the tag was last set or validated against its upstream: the mtime of its current link
  // (docs/storage-layout.md), so every instance over the storage agrees. Errors: manifest_unknown
  // (no such tag), tag_invalid, io_error.
  [[nodiscard]] virtual Result<Clock::time_point> tag_validated_at(std::string_view repo, std::string_view tag) = 0;
  // Records that the upstream still has the tag where it is (touches its current link).
  // Errors: manifest_unknown, tag_invalid, io_error.
  [[nodiscard]] virtual Status mark_tag_validated(std::string_view repo, std::string_view tag) = 0;
};

[[nodiscard]] std::unique_ptr<Registry> make_registry(std::shared_ptr<Storage> storage, RegistryOptions options = {});

}  // namespace regd
