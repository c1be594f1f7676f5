// Moving whole images between the storage tree and another registry (docker://), or between two
// registries: manifests and indexes (children first), configs, layers and optionally referrers.
// Only what the destination lacks is sent, so a repeated copy transfers nothing. Blobs stream
// through with their digest checked before anything is committed. Used by regctl (push, pull,
// cp and sync with a docker:// end) and by regd's periodic sync (regd/sync.h); library regd_sync.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"
#include "regd/registry.h"
#include "regd/remote.h"

namespace regd::sync {

// Told how a copy advances (regctl draws a progress line from it). The defaults do nothing;
// calls may come from the copying thread only.
class CopyProgress {
 public:
  virtual ~CopyProgress() = default;
  // Adds to the expected totals (0 when unknown).
  virtual void expect(uint64_t /*items*/, uint64_t /*bytes*/) {}
  virtual void add_bytes(uint64_t /*bytes*/) {}
  virtual void add_item() {}
};

struct RemoteCopyStats {
  uint64_t manifests_copied = 0;
  uint64_t manifests_present = 0;  // already at the destination (with everything below them)
  uint64_t blobs_copied = 0;
  uint64_t blobs_present = 0;  // already at the destination, or linked from another repository
  uint64_t blobs_mounted = 0;  // cross-repository mounts on the destination registry
  uint64_t bytes_copied = 0;
};

// What a copy needs to know besides the two ends.
struct RemoteCopyOptions {
  bool referrers = false;               // also copy manifests whose subject is a copied one
  std::vector<std::string> mount_from;  // repositories of the destination registry to mount blobs from
};

// One end of a copy: the storage tree's repository or a remote one.
class ImageEnd {
 public:
  virtual ~ImageEnd() = default;
  virtual std::string name() const = 0;  // for messages: "team/app" or "docker://host/team/app"
  [[nodiscard]] virtual Result<Manifest> get_manifest(std::string_view reference) = 0;
  // Whether `reference` (a tag or digest) resolves to `digest` here.
  [[nodiscard]] virtual Result<bool> has_manifest(std::string_view reference, const Digest& digest) = 0;
  [[nodiscard]] virtual Status put_manifest(std::string_view reference, const Manifest& manifest) = 0;
  // True when the blob is here (or was linked/mounted here from `mount_from` without copying).
  [[nodiscard]] virtual Result<bool> has_blob(const Descriptor& blob, const std::vector<std::string>& mount_from,
                                              bool& mounted) = 0;
  // Streams the blob to `sink`, verified before this returns.
  [[nodiscard]] virtual Status read_blob(const Descriptor& blob, const remote::BlobSink& sink) = 0;
  // The blob for reading at offsets; unsupported when this end can only stream (remote).
  [[nodiscard]] virtual Result<std::unique_ptr<ReadFile>> open_blob(const Descriptor& blob) = 0;
  // Stores a blob read from `from`.
  [[nodiscard]] virtual Status write_blob(const Descriptor& blob, ImageEnd& from, CopyProgress& progress) = 0;
  [[nodiscard]] virtual Result<std::vector<Descriptor>> referrers(const Digest& subject) = 0;
  // Every tag of the repository. Errors: name_unknown.
  [[nodiscard]] virtual Result<std::vector<std::string>> list_tags() = 0;
};

// Reads stored `file` from its start into `sink`, hashing what passes; fails with corrupt (naming
// `name`) unless the content is `blob`'s digest and size. Errors: io_error, corrupt, the sink's.
[[nodiscard]] Status copy_verified(ReadFile& file, const Descriptor& blob, std::string_view name,
                                   const remote::BlobSink& sink);

// The storage tree's repository `repo`.
std::unique_ptr<ImageEnd> local_end(Registry& registry, std::string repo);
// Repository `repo` of a remote registry; `client` must outlive the end.
std::unique_ptr<ImageEnd> remote_end(remote::Client& client, std::string repo);

// Copies images from one end to the other. Not thread-safe.
class ImageCopier {
 public:
  ImageCopier(ImageEnd& from, ImageEnd& to, RemoteCopyOptions options, CopyProgress& progress)
      : m_from(from), m_to(to), m_options(std::move(options)), m_progress(progress) {}

  // Copies `reference` (tag or digest) of the source and everything it references, stores it at
  // the destination by digest and, when `tag` is not empty, tags it there. Returns the top
  // manifest's descriptor. Errors: those of both ends (manifest_unknown, blob_unknown naming the
  // blob and its manifest, digest_invalid, denied, io_error, ...).
  [[nodiscard]] Result<Descriptor> copy(std::string_view reference, std::string_view tag);
  const RemoteCopyStats& stats() const { return m_stats; }

 private:
  Result<Descriptor> copy_manifest(std::string_view reference);
  Status copy_children(const Manifest& manifest);
  Status copy_blob(const Descriptor& blob, const Digest& manifest);
  Status copy_referrers(const Digest& subject);

  ImageEnd& m_from;
  ImageEnd& m_to;
  RemoteCopyOptions m_options;
  CopyProgress& m_progress;
  std::set<Digest> m_done;
  RemoteCopyStats m_stats;
};

}  // namespace regd::sync
