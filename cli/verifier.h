// The checks behind `regctl verify`: re-hash blobs (in parallel, streaming), check every link,
// manifest reference and upload session of the repositories covered, and tell corruption apart
// from the leftovers of interrupted writes that garbage collection removes (regd::collect_leftovers).
// Reads only, except that --quarantine moves corrupt blobs aside (Inspector::quarantine_blob).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "progress.h"
#include "regd/error.h"
#include "regd/gc.h"
#include "regd/inspect.h"
#include "regd/registry.h"
#include "regd/storage.h"

namespace regd::cli {

struct VerifyOptions {
  std::vector<std::string> repositories;  // empty: every repository and every stored blob
  unsigned jobs = 1;                      // hashing threads, >= 1
  bool quarantine = false;
  std::chrono::seconds grace{3600};  // leftovers older than this are `removable`
};

// One finding that is not a crash leftover: corruption. kind is one of: corrupt_blob,
// unreadable_blob, dangling_link, malformed_link, unreadable_manifest, missing_reference, bad_upload.
struct Problem {
  std::string kind;
  std::string repository;  // "" for blob-store findings
  std::string digest;      // "" when none applies
  std::string path;        // storage path when one applies
  std::string detail;
  std::string quarantined_to;  // set when --quarantine moved the blob
};

struct VerifyReport {
  std::vector<std::string> repositories;
  uint64_t blobs_checked = 0;
  uint64_t bytes_checked = 0;
  uint64_t links_checked = 0;
  uint64_t manifests_checked = 0;
  uint64_t uploads_checked = 0;
  std::vector<Problem> problems;
  // What interrupted writes left (docs/storage-layout.md, "Crash points"): found by the leftover
  // scan, or by the checks by the same definition - a layer link to missing data no manifest of
  // the repository references, a revision link to missing data no tag or manifest needs, an upload
  // session without startedat. Not problems: GC removes them once older than the grace window.
  // Limited to the repositories covered (blob-store and temp leftovers only when all are).
  std::vector<Leftover> leftovers;
  Clock::time_point t0;  // the storage time of the leftover scan (ages are relative to it)
};

// Runs every check, then the leftover scan (collect_leftovers, dry run). Problems and leftovers
// are findings, not errors. Errors: name_invalid or name_unknown (a repository given does not
// exist), io_error (a listing failed: the report would be partial).
[[nodiscard]] Result<VerifyReport> verify_storage(std::shared_ptr<Storage> storage, Registry& registry,
                                                  Inspector& inspector, const VerifyOptions& options,
                                                  Progress& progress);

}  // namespace regd::cli
