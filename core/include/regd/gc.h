// Online garbage collection, safe while any number of regd instances push and pull
// (design.md, "Online garbage collection"; docs/gc.md):
//   1. take the GC lease (one GC at a time across all hosts; expires if its holder dies);
//   2. T0 from the storage clock;
//   3. mark every manifest root (every revision, or with delete_untagged only what tags reach
//      plus manifests younger than the grace window) and everything they reference: configs,
//      layers, index children and referrers of kept manifests;
//   4. a blob is a candidate only if unmarked and its data and every link to it are older than
//      T0 - grace (writers refresh links they rely on, see RegistryOptions::refresh_after);
//   5. sweep: move candidates to a trash area, re-scan every link, put back whatever a writer
//      touched meanwhile (with everything it references), then delete the rest;
//   6. purge upload sessions older than the upload TTL.
// If any read fails while marking, nothing is deleted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"
#include "regd/registry.h"
#include "regd/storage.h"

namespace regd {

struct GcOptions {
  bool dry_run = false;          // report only: no lease, nothing written
  bool delete_untagged = false;  // also remove manifests no tag reaches (older than grace)
  std::chrono::seconds grace{3600};
  std::chrono::seconds upload_ttl{7 * 24 * 3600};
  std::chrono::seconds lease_ttl{600};  // renewed while the run lasts
  std::string holder;                   // who runs it, shown to a GC that finds the lease taken
};

struct GcReport {
  Clock::time_point t0;
  uint64_t repositories = 0;
  uint64_t manifests_marked = 0;
  uint64_t blobs_marked = 0;
  uint64_t blobs_young = 0;     // unreferenced, but inside the grace window: kept
  uint64_t blobs_restored = 0;  // moved to trash, then put back because a writer touched them
  uint64_t blobs_removed = 0;
  uint64_t bytes_removed = 0;
  uint64_t manifests_removed = 0;
  uint64_t uploads_removed = 0;
  uint64_t upload_bytes_removed = 0;
  std::vector<BlobInfo> removed_blobs;         // removed, or with dry_run, would be
  std::vector<std::string> removed_manifests;  // "repo@digest"
  std::vector<std::string> removed_uploads;    // "repo upload-id"
};

// Progress for a TTY: phase name ("mark", "sweep", "uploads"), items done, items known so far.
using GcProgress = std::function<void(std::string_view phase, uint64_t done, uint64_t total)>;

// Runs one collection. Errors: invalid_argument (grace shorter than
// RegistryOptions::refresh_after), conflict (another GC holds the lease, or the lease was lost),
// and any read error met while marking (nothing is deleted then).
[[nodiscard]] Result<GcReport> collect_garbage(std::shared_ptr<Storage> storage, const GcOptions& options,
                                               const GcProgress& progress = {});

}  // namespace regd
