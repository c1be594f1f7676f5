// Moving whole images between an OCI image layout and a repository of the registry: manifests,
// indexes (children first), configs, layers and, when the layout holds them, subjects before
// their referrers. Every blob is streamed and its digest checked on the way in.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "oci_layout.h"
#include "progress.h"
#include "regd/error.h"
#include "regd/registry.h"

namespace regd::cli {

// Largest manifest read from a layout (the registry's own limit).
inline constexpr size_t k_max_manifest_size = 4 * 1024 * 1024;

struct CopyStats {
  uint64_t manifests = 0;
  uint64_t blobs_copied = 0;
  uint64_t blobs_skipped = 0;  // already present at the destination
  uint64_t bytes_copied = 0;
};

// Layout -> registry. Not thread-safe.
class Pusher {
 public:
  Pusher(Registry& registry, const OciLayout& layout, std::string repo, Progress& progress)
      : m_registry(registry), m_layout(layout), m_repo(std::move(repo)), m_progress(progress) {}

  // Stores `manifest` (untagged) and everything it references. Blobs missing from the layout
  // are fine when the repository already has them (or any stored blob can be mounted); foreign
  // layers may be absent. Errors: not_found (a blob in neither place), corrupt (a layout blob
  // does not match its digest), and every error of Registry::put_blob / put_manifest.
  [[nodiscard]] Status push(const Descriptor& manifest);
  const CopyStats& stats() const { return m_stats; }

 private:
  Status push_children(const Descriptor& manifest, std::string_view content);
  Status push_blob(const Descriptor& blob);
  Status stream_blob(const Descriptor& blob, BlobWriter& writer);
  const Descriptor* find_in_layout(const Digest& digest) const;

  Registry& m_registry;
  const OciLayout& m_layout;
  std::string m_repo;
  Progress& m_progress;
  std::set<Digest> m_done;
  CopyStats m_stats;
};

// Registry -> layout. Not thread-safe.
class Puller {
 public:
  Puller(Registry& registry, std::string repo, const OciLayout& layout, Progress& progress)
      : m_registry(registry), m_repo(std::move(repo)), m_layout(layout), m_progress(progress) {}

  // Also copy, recursively, the manifests whose subject is a pulled manifest (signatures, SBOMs).
  void include_referrers() { m_include_referrers = true; }
  // The referrers copied so far (for unnamed index.json entries).
  const std::vector<Descriptor>& referrers() const { return m_referrers; }

  // Copies the manifest `reference` (tag or digest) and everything it references into the
  // layout's blobs (index.json untouched); returns its descriptor. Errors: manifest_unknown,
  // name_unknown, blob_unknown (naming the config or layer and its manifest), corrupt (stored data does not match its
  // digest), io_error.
  [[nodiscard]] Result<Descriptor> pull(std::string_view reference);
  const CopyStats& stats() const { return m_stats; }
  // The blob files this puller wrote into the layout (to undo a pull that failed).
  const std::vector<Digest>& added() const { return m_added; }

 private:
  Result<Descriptor> pull_manifest(std::string_view reference);
  Status pull_referrers(const Digest& subject);
  // `what` ("config", "layer") and `manifest` name the blob in errors.
  Status pull_blob(const Descriptor& blob, std::string_view what, const Digest& manifest);

  Registry& m_registry;
  std::string m_repo;
  const OciLayout& m_layout;
  Progress& m_progress;
  bool m_include_referrers = false;
  std::vector<Descriptor> m_referrers;
  std::set<Digest> m_done;
  std::vector<Digest> m_added;
  CopyStats m_stats;
};

// Repository -> repository in the same storage, without copying blob bytes: blobs are mounted
// (linked), manifests stored again by digest. Not thread-safe.
class RepoCopier {
 public:
  RepoCopier(Registry& registry, std::string from, std::string to)
      : m_registry(registry), m_from(std::move(from)), m_to(std::move(to)) {}

  // Copies `reference` (tag or digest) of `from` and everything it references; returns the
  // manifest's descriptor. Errors: manifest_unknown, blob_unknown, and put_manifest's errors.
  [[nodiscard]] Result<Descriptor> copy(std::string_view reference);
  const CopyStats& stats() const { return m_stats; }

 private:
  Status mount(const Descriptor& blob);

  Registry& m_registry;
  std::string m_from;
  std::string m_to;
  std::set<Digest> m_done;
  CopyStats m_stats;
};

}  // namespace regd::cli
