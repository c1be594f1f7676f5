// The sweep of one GC run: park candidates in a trash directory, re-check every link, put back
// what a writer touched meanwhile (with everything it references), delete the rest.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gc_lease.h"
#include "gc_scan.h"
#include "regd/gc.h"

namespace regd {

class GcSweep {
 public:
  GcSweep(std::shared_ptr<Storage> storage, const GcScan& scan, Clock::time_point cutoff, GcLease& lease,
          GcReport& report);

  // Puts back blobs left in trash by an earlier run that died mid-sweep. Errors: io_error.
  [[nodiscard]] Status recover_old_trash();
  // Removes the doomed revision links that are still older than the cutoff.
  [[nodiscard]] Status remove_doomed();
  // Trash, re-check, restore, delete. On a failed re-check everything is put back.
  [[nodiscard]] Status sweep(const std::vector<BlobInfo>& candidates, const GcProgress& progress);

 private:
  Status trash(const BlobInfo& blob);
  Status recheck();
  Status restore(const Digest& digest);
  Status restore_all();
  Status delete_trashed(const BlobInfo& blob);
  std::string trash_path(const Digest& digest) const;

  std::shared_ptr<Storage> m_storage;
  const GcScan& m_scan;
  Clock::time_point m_cutoff;
  GcLease& m_lease;
  GcReport& m_report;
  std::string m_run_id;
  std::map<Digest, bool> m_trashed;                     // digest -> restored
  std::set<Digest> m_restored;                          // restore() already ran for these
  std::set<std::pair<std::string, Digest>> m_unlinked;  // doomed revisions removed (repo, digest)
};

}  // namespace regd
