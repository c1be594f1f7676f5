// The checks behind `regctl verify`: re-hash blobs (in parallel, streaming), check every link,
// manifest reference and upload session of the repositories covered. Reads only, except that
// --quarantine moves corrupt blobs aside (Inspector::quarantine_blob).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "progress.h"
#include "regd/error.h"
#include "regd/inspect.h"
#include "regd/registry.h"

namespace regd::cli {

struct VerifyOptions {
  std::vector<std::string> repositories;  // empty: every repository and every stored blob
  unsigned jobs = 1;                      // hashing threads, >= 1
  bool quarantine = false;
};

// One finding. kind is one of: corrupt_blob, unreadable_blob, dangling_link, malformed_link,
// unreadable_manifest, missing_reference, bad_upload.
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
};

// Runs every check. Problems are findings, not errors. Errors: name_invalid or name_unknown
// (a repository given does not exist), io_error (a listing failed: the report would be partial).
[[nodiscard]] Result<VerifyReport> verify_storage(Registry& registry, Inspector& inspector,
                                                  const VerifyOptions& options, Progress& progress);

}  // namespace regd::cli
