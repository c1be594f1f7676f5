// The Registry implementation, split by concern over blob_ops.cc, upload_ops.cc,
// upload_writer.cc, manifest_ops.cc, tag_ops.cc, listing.cc and referrers.cc; the shared link
// helpers live in registry_impl.cc. Holds no mutable state but a bounded cache of summaries of
// stored manifests by digest (immutable content: manifest_cache.h): every call reads storage afresh.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manifest_cache.h"
#include "regd/digest.h"
#include "regd/manifest.h"
#include "regd/registry.h"
#include "regd/storage.h"
#include "try.h"

namespace regd {

// Replaces a not_found error by `code` with `message`; other results pass through.
template <class T>
Result<T> on_not_found(Result<T> result, Errc code, const std::string& message) {
  if (!result && result.error().code == Errc::not_found) {
    return fail(code, message);
  }
  return result;
}

// Reads `size` bytes of `path` in >= 1 MiB pieces into `hasher` (never the whole file in memory).
// Errors: not_found, corrupt (the file is shorter than `size`), io_error.
[[nodiscard]] Status hash_file_prefix(Storage& storage, const std::string& path, uint64_t size, Hasher& hasher);

// Calls `visit` for each directory "<dir>/<alg>/<hex>" whose name is a digest (links, revisions,
// referrers); other entries are skipped and missing directories are empty.
[[nodiscard]] Status for_each_digest_dir(Storage& storage, const std::string& dir,
                                         const std::function<Status(const Digest&)>& visit);

// True when `repo` holds at least one manifest (a revision link). A repository without one (never
// pushed to, or emptied by deletes) is not listed and has no tags to list. Errors: io_error.
[[nodiscard]] Result<bool> holds_manifest(Storage& storage, std::string_view repo);

class RegistryImpl final : public Registry {
 public:
  RegistryImpl(std::shared_ptr<Storage> storage, RegistryOptions options);

  Result<BlobInfo> stat_blob(std::string_view repo, const Digest& digest) override;
  Result<std::unique_ptr<ReadFile>> open_blob(std::string_view repo, const Digest& digest) override;
  std::optional<std::string> blob_url(const Digest& digest, std::chrono::seconds ttl) override;
  Status delete_blob(std::string_view repo, const Digest& digest) override;
  Result<BlobInfo> mount_blob(std::string_view repo, const Digest& digest,
                              std::optional<std::string_view> from) override;
  Result<std::unique_ptr<BlobWriter>> put_blob(std::string_view repo, const Digest& digest) override;

  Result<UploadStatus> start_upload(std::string_view repo,
                                    DigestAlgorithm algorithm = DigestAlgorithm::sha256) override;
  Result<UploadStatus> upload_status(std::string_view repo, std::string_view id) override;
  Result<std::unique_ptr<UploadWriter>> append_upload(std::string_view repo, std::string_view id,
                                                      std::optional<uint64_t> offset) override;
  Result<BlobInfo> finish_upload(std::string_view repo, std::string_view id, const Digest& digest) override;
  Status cancel_upload(std::string_view repo, std::string_view id) override;
  Result<size_t> count_uploads(std::string_view repo) override;

  Result<ManifestPutResult> put_manifest(std::string_view repo, std::string_view reference,
                                         std::string_view content_type, std::string_view content,
                                         const std::vector<std::string>& tags) override;
  Result<Manifest> get_manifest(std::string_view repo, std::string_view reference) override;
  Status delete_manifest(std::string_view repo, const Digest& digest) override;
  Status delete_tag(std::string_view repo, std::string_view tag) override;
  Status set_tag(std::string_view repo, std::string_view tag, const Digest& digest) override;

  Result<RepositoryRemoval> delete_repository(std::string_view repo) override;

  Result<Page> list_tags(std::string_view repo, size_t n, std::string_view last) override;
  Result<Page> list_repositories(size_t n, std::string_view last) override;
  Result<std::vector<Digest>> list_manifests(std::string_view repo) override;

  Result<std::vector<Descriptor>> list_referrers(std::string_view repo, const Digest& subject,
                                                 std::optional<std::string_view> artifact_type) override;
  Status rebuild_referrers(std::string_view repo) override;

  Result<ManifestPutResult> cache_manifest(std::string_view repo, std::string_view reference,
                                           std::string_view content_type, std::string_view content) override;
  Result<Clock::time_point> tag_validated_at(std::string_view repo, std::string_view tag) override;
  Status mark_tag_validated(std::string_view repo, std::string_view tag) override;

  // The end of a verified upload (finish_upload, UploadWriter::commit): link, unpublish the
  // session, move its data into the blob store, remove the rest. REQUIRES: the session's lock.
  Result<BlobInfo> complete_upload(std::string_view repo, std::string_view id, const Digest& digest, uint64_t size);

 private:
  // ---- links and existence (registry_impl.cc) ----
  // Errors: not_found, corrupt, io_error.
  Result<Digest> read_link(const std::string& path);
  Status write_link(const std::string& path, const Digest& digest);
  // Whether a failed touch fails the call: writers rely on the fresh link (GC), readers do not.
  enum class Refresh { required, best_effort };
  // False when missing; touches the link when older than refresh_after. With best_effort a
  // touch the storage refuses (read-only mount, I/O error) is ignored: the link exists.
  Result<bool> refresh_link(const std::string& path, Refresh mode = Refresh::required);
  // refresh_link, or write_link when it is missing (also when GC removed it meanwhile).
  Status ensure_link(const std::string& path, const Digest& digest);
  Result<bool> exists(const std::string& path);
  // Size of the blob data. Errors: blob_unknown, io_error.
  Result<uint64_t> blob_size(const Digest& digest);
  // The repository may serve the blob: its layer link (refreshed, best effort: only reads call
  // this) or, for a manifest stored as a blob, its revision link exists.
  // Errors: blob_unknown, io_error.
  Status require_linked(std::string_view repo, const Digest& digest);
  // name_unknown when the repository directory is missing.
  Status require_repo(std::string_view repo);
  // name_unknown when the repository holds no manifest (holds_manifest).
  Status require_manifests(std::string_view repo);

  // ---- uploads (upload_ops.cc) ----
  // Validates repo and id, then checks that the session exists. Errors: upload_unknown.
  Status check_upload(std::string_view repo, std::string_view id);
  // Locks a session without waiting and re-checks it still exists. Errors: conflict, upload_unknown.
  Result<std::unique_ptr<Lock>> lock_upload(std::string_view repo, std::string_view id);
  Result<Clock::time_point> read_started_at(std::string_view repo, std::string_view id);
  // The algorithm the session hashes with (start_upload): sha512 when its state at 0 exists.
  Result<DigestAlgorithm> upload_algorithm(std::string_view repo, std::string_view id);
  // Hasher over the first `size` bytes of the session: its stored state, else a re-hash.
  Result<Hasher> load_hasher(std::string_view repo, std::string_view id, DigestAlgorithm algorithm, uint64_t size);
  Result<uint64_t> upload_size(std::string_view repo, std::string_view id);
  // Removes a session: startedat first, so that it vanishes at once for readers and a crash
  // leaves only a directory GC removes (docs/storage-layout.md, "Crash points").
  Status remove_upload(std::string_view repo, std::string_view id);

  // ---- listings (listing.cc) ----
  // Adds `name` to a page of at most `n` tags when its current link exists; false once the page
  // is full and another tag follows it.
  Result<bool> add_tag_to_page(std::string_view repo, std::string name, size_t n, Page& page);

  // ---- manifests (manifest_ops.cc, referrers.cc) ----
  // Resolves a tag or digest reference to a manifest digest with a revision link in repo.
  Result<Digest> resolve(std::string_view repo, std::string_view reference);
  Result<std::string> read_manifest_blob(const Digest& digest);
  // The summary of stored manifest content (cached by digest: parsed once per process).
  std::shared_ptr<const ManifestSummary> summary_of(const Digest& digest, std::string_view content);
  // The summary of the stored manifest `digest`; its data is read only when not cached (a
  // cached one is still checked to exist). Errors: manifest_unknown, io_error.
  Result<std::shared_ptr<const ManifestSummary>> stored_summary(const Digest& digest);
  Status check_references(std::string_view repo, const ParsedManifest& parsed);
  // put_manifest and cache_manifest: whether the referenced blobs and manifests must be present.
  enum class References { required, fetched_later };
  Result<ManifestPutResult> write_manifest(std::string_view repo, std::string_view reference,
                                           std::string_view content_type, std::string_view content,
                                           const std::vector<std::string>& tags, References references);
  Status check_blob_reference(std::string_view repo, const Descriptor& descriptor);
  // Data, referrers link, revision link, data again (manifest_ops.cc). True: the repository had
  // this revision already (its link was refreshed, not written).
  Result<bool> store_manifest(std::string_view repo, const Digest& digest, std::string_view content,
                              const ParsedManifest& parsed);
  // Writes the manifest's blob data unless it is stored already. True: it was.
  Result<bool> ensure_manifest_data(const Digest& digest, std::string_view content);
  // The current link, then the index link; `known_revision`: the revision existed before this
  // call, so the index link may exist too and is only written when missing.
  Status write_tag(std::string_view repo, std::string_view tag, const Digest& digest, bool known_revision);
  // immutable when `tag` matches RegistryOptions::immutable_tags and exists pointing at another
  // digest than `digest` (nullopt: at any digest, i.e. a delete).
  Status check_tag_change(std::string_view repo, std::string_view tag, const std::optional<Digest>& digest);
  // check_tag_change for every immutable tag of `repo` that points at `digest`.
  Status check_tags_pointing_to(std::string_view repo, const Digest& digest);
  Status remove_tags_pointing_to(std::string_view repo, const Digest& digest);
  Status remove_tag(std::string_view repo, std::string_view tag);
  Result<std::optional<Descriptor>> referrer_descriptor(std::string_view repo, const Digest& digest,
                                                        const Digest& subject);
  Status prune_referrers(std::string_view repo);

  std::shared_ptr<Storage> m_storage;
  RegistryOptions m_options;
  std::unique_ptr<ManifestCache> m_manifest_cache = std::make_unique<ManifestCache>(m_options.manifest_cache_size);
};

}  // namespace regd
