// Walks over the raw storage tree that registry.h hides on purpose: every stored blob, every
// link file of a repository, the insides of upload sessions. For `regctl verify` and `regctl du`
// (and garbage collection): callers judge what they see, the layout stays core's knowledge.
// Stateless and thread-safe; everything but quarantine_blob only reads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "regd/digest.h"
#include "regd/error.h"
#include "regd/registry.h"
#include "regd/storage.h"

namespace regd {

enum class LinkKind { layer, revision, tag_current, tag_index };

// "layer", "revision", "tag_current", "tag_index".
std::string_view link_kind_name(LinkKind kind);

struct LinkEntry {
  LinkKind kind = LinkKind::layer;
  std::string path;              // storage path of the link file, for reports
  std::string tag;               // tag links only
  std::optional<Digest> named;   // the digest the link's directory names (all kinds but tag_current)
  std::optional<Digest> target;  // the digest the file holds; nullopt when unreadable or malformed
  std::string error;             // why `target` is nullopt
};

struct UploadEntry {
  std::string id;                     // the session directory's name
  uint64_t size = 0;                  // bytes in its data file
  std::vector<std::string> problems;  // empty when the session is well-formed
};

class Inspector {
 public:
  virtual ~Inspector() = default;

  // Calls `visit` for every blob whose data file exists in the blob store (sha256 and sha512),
  // with its size, in no particular order; directories whose names are not digests are skipped.
  // Stops at, and returns, the first error `visit` returns. Errors: io_error.
  [[nodiscard]] virtual Status for_each_blob(const std::function<Status(const BlobInfo&)>& visit) = 0;
  // Size of a blob's stored data. Errors: not_found, io_error.
  [[nodiscard]] virtual Result<uint64_t> blob_size(const Digest& digest) = 0;
  // Re-reads a blob's stored data (streaming, 1 MiB at a time) and returns what it hashes to
  // with the digest's own algorithm, and its size; compare with `digest` to find corruption.
  // `progress` (may be empty) receives byte counts as they are read. Errors: not_found, io_error.
  [[nodiscard]] virtual Result<BlobInfo> hash_blob(const Digest& digest,
                                                   const std::function<void(uint64_t)>& progress) = 0;
  // Moves a blob's data out of the blob store into docker/registry/v2/_quarantine/ (kept for
  // inspection; registry:2 ignores the directory) and returns its new storage path. The blob then
  // reads as missing, so the next push of it stores it afresh. Errors: not_found, io_error.
  [[nodiscard]] virtual Result<std::string> quarantine_blob(const Digest& digest) = 0;
  // Every repository directory (one holding _manifests, _layers or _uploads), sorted, including
  // those the catalog does not list because they hold no manifest (a push in progress, one
  // emptied by deletes): their links and uploads still need checking. Errors: io_error.
  [[nodiscard]] virtual Result<std::vector<std::string>> list_repository_dirs() = 0;
  // Every link file of a repository: layer links, manifest revision links, and each tag's current
  // and index links. Directories without a link file are not links and are skipped.
  // Errors: name_invalid, name_unknown (no such repository), io_error.
  [[nodiscard]] virtual Result<std::vector<LinkEntry>> list_links(std::string_view repo) = 0;
  // Every upload session of a repository, checked: id is a UUID, data file present, startedat is
  // RFC 3339, each hash state parses and its offset does not exceed the data's size.
  // Errors: name_invalid, io_error (a repository without uploads has none).
  [[nodiscard]] virtual Result<std::vector<UploadEntry>> list_uploads(std::string_view repo) = 0;
};

[[nodiscard]] std::unique_ptr<Inspector> make_inspector(std::shared_ptr<Storage> storage);

}  // namespace regd
