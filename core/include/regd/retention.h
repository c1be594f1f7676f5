// Retention policies for cron and for regd's background job (regctl prune, regd --prune-*):
// which tags and untagged manifests of a repository to remove, and removing them safely while
// regd instances serve the same tree. Tags go the way single deletes do; the blobs they leave
// unreferenced are garbage collection's to reclaim.
//
// Safety while instances serve:
// - one run at a time, under the GC lease (regd/gc.h); a dry run takes none and writes nothing;
// - a tag is removed only if it still points where it pointed when it was judged, with the same
//   push time: a tag re-pointed or pushed again meanwhile is kept (last writer wins); the check
//   parks the tag's current link under a temp name and puts it back when it changed;
// - tags matching the immutable patterns are never removed;
// - an untagged manifest is removed only when no tag reaches it (through index children and the
//   referrers of reached manifests, as GC's delete_untagged judges), its revision link is still
//   older than the cutoff, and no tag points at it right before the removal.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "regd/digest.h"
#include "regd/error.h"
#include "regd/gc.h"
#include "regd/storage.h"

namespace regd {

struct RetentionPolicy {
  // Tag patterns (RegistryOptions::immutable_tags syntax) the tag rules apply to; empty: every
  // tag. Tags not matching are kept.
  std::vector<std::string> match;
  // A matching tag is removed when a keep rule is set and none keeps it. Without either rule no
  // tag is removed.
  std::optional<uint64_t> keep_newest;              // the N most recently pushed matching tags
  std::optional<std::chrono::seconds> keep_within;  // matching tags pushed within this
  // Manifests no tag reaches (after the tag rules) whose revision link is older than this are
  // removed. REQUIRES: longer than the link refresh interval of the instances (a push of an
  // existing manifest re-touches its revision link only when older than that).
  std::optional<std::chrono::seconds> untagged_older_than;

  // True when the policy would remove anything at all.
  bool active() const { return keep_newest || keep_within || untagged_older_than; }
};

struct PruneOptions {
  RetentionPolicy policy;
  std::vector<std::string> repositories;    // empty: every repository
  std::vector<std::string> immutable_tags;  // never removed (RegistryOptions::immutable_tags)
  bool dry_run = false;                     // report only: no lease, nothing written
  std::chrono::seconds lease_ttl{600};
  std::string holder;  // who runs it, shown to a GC or prune that finds the lease taken
};

struct PrunedTag {
  std::string repository;
  std::string tag;
  Digest digest;
  Clock::time_point pushed;  // mtime of its current link (storage clock)
};

struct PrunedManifest {
  std::string repository;
  Digest digest;
  Clock::time_point pushed;  // mtime of its revision link
};

struct PruneReport {
  Clock::time_point t0;  // the storage clock at the start (this host's clock for a dry run)
  uint64_t repositories = 0;
  uint64_t tags_kept = 0;
  std::vector<PrunedTag> removed_tags;            // removed, or with dry_run would be
  std::vector<PrunedManifest> removed_manifests;  // removed, or with dry_run would be
  std::vector<PrunedTag> immutable;               // the policy would remove them; immutable, kept
  std::vector<PrunedTag> moved;                   // re-pointed or pushed again after being judged: kept
  std::vector<GcIncomplete> incomplete;           // untagged manifests kept: a manifest did not read
};

// Applies `options.policy` to each repository. Errors: invalid_argument (no rule, a negative
// duration), name_unknown (a repository given that does not exist), conflict (another GC or
// prune holds the lease), io_error.
[[nodiscard]] Result<PruneReport> prune(std::shared_ptr<Storage> storage, const PruneOptions& options);

}  // namespace regd
