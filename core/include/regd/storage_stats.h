// Process-wide counters of the storage backends: errors met, and the retries network
// filesystems need. The daemon exports them at /metrics; regctl ignores them. Lock-free and
// monotonic; nothing here depends on a metrics library.
#pragma once

#include <atomic>
#include <cstdint>

#include "regd/error.h"

namespace regd {

struct StorageStats {
  // Errors a storage call returned, by kind: io_error (EIO and every errno without a better
  // code), no_space (ENOSPC, EDQUOT), denied (EACCES, EPERM, EROFS). Routine outcomes
  // (not_found, exists, conflict) and invalid paths are not errors here.
  std::atomic<uint64_t> io_errors{0};
  std::atomic<uint64_t> no_space_errors{0};
  std::atomic<uint64_t> denied_errors{0};
  // ESTALE answers retried (each retry once; a call can retry several times).
  std::atomic<uint64_t> estale_retries{0};
  // Reads on a network filesystem that missed (ENOENT) and were re-checked once after a
  // revalidation of the directory; `miss_recheck_hits` of them found the file then.
  std::atomic<uint64_t> miss_rechecks{0};
  std::atomic<uint64_t> miss_recheck_hits{0};
};

// The one instance of this process. Thread-safe; never destroyed.
StorageStats& storage_stats();

// Counts an error a backend returned (io_error, no_space, denied); routine outcomes are not.
void count_storage_error(Errc code);

}  // namespace regd
