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
//   6. purge upload sessions older than the upload TTL (by every clock: startedat, and the
//      storage mtimes of the session), and sessions that never received a byte once older than
//      the grace window (or the TTL, when that is shorter);
//   7. remove crash leftovers older than the grace window (collect_leftovers).
// A crash leftover never stops a run. A repository that cannot be fully marked (a manifest that
// does not read or parse, after re-checks) keeps every blob it links and is reported in
// GcReport::incomplete; GC goes on for everything else. Only a failure to list links at all
// stops the run, and then nothing is deleted.
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

// A repository GC could not fully mark (a manifest unreadable or missing its data while a tag or
// another manifest needs it): every blob the repository links was kept, GC went on elsewhere.
struct GcIncomplete {
  std::string repository;
  std::string reason;  // what could not be read, without local paths
};

// What an interrupted write can leave behind (docs/storage-layout.md, "Crash points"). None of
// it is visible to readers; garbage collection removes each once older than the grace window.
enum class LeftoverKind {
  temp_file,            // a ".tmp-" file or directory of a write that never committed
  blob_without_data,    // a blob directory holding no data file
  layer_link,           // a repository's layer link to a blob whose data is not stored
  revision_link,        // a revision link to a manifest never stored (no tag or manifest needs it)
  upload_session,       // an upload session directory without startedat (never published, or being removed)
  tag_without_current,  // a tag directory without its current link
};

// "temp_file", "blob_without_data", "layer_link", "revision_link", "upload_session",
// "tag_without_current".
std::string_view leftover_kind_name(LeftoverKind kind);

struct Leftover {
  LeftoverKind kind = LeftoverKind::temp_file;
  std::string path;         // storage path (relative to the root) of what would be removed
  std::string repository;   // empty for the blob store
  Clock::time_point mtime;  // its newest modification time (storage clock)
  uint64_t bytes = 0;       // data it holds (temp files, sessions)
  bool removable = false;   // older than the cutoff of the run that found it
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
  // Crash leftovers found; with dry_run those that would be removed, else those removed.
  std::vector<Leftover> leftovers;
  uint64_t leftovers_removed = 0;
  std::vector<GcIncomplete> incomplete;  // repositories whose blobs were all kept (see above)
};

struct LeftoverOptions {
  bool dry_run = true;  // find only: no lease, nothing written
  std::chrono::seconds grace{3600};
  std::chrono::seconds lease_ttl{600};
  std::string holder;
};

struct LeftoverReport {
  Clock::time_point t0;
  std::vector<Leftover> found;  // every leftover, `removable` set for those older than T0 - grace
  uint64_t removed = 0;         // without dry_run: how many of the removable ones were removed
};

// Progress for a TTY: phase name ("mark", "sweep", "uploads"), items done, items known so far.
using GcProgress = std::function<void(std::string_view phase, uint64_t done, uint64_t total)>;

// Runs one collection. Errors: invalid_argument (grace shorter than
// RegistryOptions::refresh_after), conflict (another GC holds the lease, or the lease was lost),
// and any read error met while marking (nothing is deleted then).
[[nodiscard]] Result<GcReport> collect_garbage(std::shared_ptr<Storage> storage, const GcOptions& options,
                                               const GcProgress& progress = {});

// Finds every crash leftover in the tree (regctl verify) and, without dry_run, removes those older
// than T0 - grace under the GC lease, re-checking each first: a link a writer refreshed meanwhile,
// or a write that finished, stays (regctl verify --repair). GC does the same as one of its steps.
// Errors: conflict (another GC holds the lease), io_error.
[[nodiscard]] Result<LeftoverReport> collect_leftovers(std::shared_ptr<Storage> storage,
                                                       const LeftoverOptions& options);

}  // namespace regd
