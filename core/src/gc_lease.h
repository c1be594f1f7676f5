// The GC lease: a small JSON file in storage naming its holder and expiry (storage clock), read
// and replaced under a short fcntl lock. A GC that dies stops renewing, so the next one takes
// over once the lease expires.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "regd/error.h"
#include "regd/storage.h"

namespace regd {

class GcLease {
 public:
  // Takes the lease for `ttl`. Errors: conflict (held by another, unexpired), io_error.
  [[nodiscard]] static Result<std::unique_ptr<GcLease>> acquire(Storage& storage, const std::string& holder,
                                                                std::chrono::seconds ttl);
  // Releases the lease if still ours.
  ~GcLease();
  GcLease(const GcLease&) = delete;
  GcLease& operator=(const GcLease&) = delete;

  // Extends the lease when a third of its ttl has passed. Errors: conflict (lost), io_error.
  [[nodiscard]] Status renew();

 private:
  GcLease(Storage& storage, std::string holder, std::string token, std::chrono::seconds ttl);
  // Writes our lease if the current one is ours, missing or expired. Errors: conflict, io_error.
  Status write_if_free();

  Storage& m_storage;
  std::string m_holder;
  std::string m_token;
  std::chrono::seconds m_ttl;
  std::chrono::steady_clock::time_point m_renewed;
};

// How a GC-like run (collection, leftover repair) starts: without dry_run it takes the lease for
// `holder` and reads T0 from the storage clock; with dry_run it writes nothing, holds no lease and
// takes T0 from this host's clock. Errors: conflict (lease held by another), io_error.
struct GcRunStart {
  std::unique_ptr<GcLease> lease;  // null with dry_run
  Clock::time_point t0;
};
[[nodiscard]] Result<GcRunStart> start_gc_run(Storage& storage, bool dry_run, const std::string& holder,
                                              std::chrono::seconds ttl);

}  // namespace regd
