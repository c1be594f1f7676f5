// Crash leftovers (docs/storage-layout.md, "Crash points"): what an interrupted write leaves, how
// to find it, and how to remove it without racing a writer. Shared by garbage collection and
// `regctl verify [--repair]` (collect_leftovers in regd/gc.h).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "regd/digest.h"
#include "regd/gc.h"
#include "regd/storage.h"

namespace regd {

// A revision link whose manifest data is not stored is what an interrupted manifest PUT leaves,
// unless a tag or a stored manifest of the same repository needs that manifest: then it was
// acknowledged and its data is lost, which is corruption, not a leftover.
bool is_leftover_revision(const Digest& digest, const std::set<Digest>& tagged, const std::set<Digest>& referenced);

// Appends every leftover in the blob store, the GC directory and the given repositories to `out`,
// `removable` set for those older than `cutoff`. With `restore`, an entry a crashed removal parked
// (see remove_parked) is put back when it is still live, instead of being reported.
// Errors: io_error (a listing or read that failed; `out` is then incomplete).
[[nodiscard]] Status find_leftovers(Storage& storage, const std::vector<std::string>& repos, Clock::time_point cutoff,
                                    bool restore, std::vector<Leftover>& out);

// Removes the removable leftovers, re-checking each first (a writer may have refreshed a link or
// finished a write meanwhile); clears `removable` on those that stay. Returns how many went.
// REQUIRES: the caller holds the GC lease. Errors: io_error.
[[nodiscard]] Result<uint64_t> remove_leftovers(Storage& storage, std::vector<Leftover>& leftovers,
                                                Clock::time_point cutoff);

// Removes `parent/name`, an entry a writer may refresh or rewrite at any instant (a link
// directory, a tag directory), without racing it: renames it to `parent/.tmp-gc-<name>`, asks
// `stale(parked_path)` again, and puts it back when it is no longer stale; a writer that comes
// after the rename finds nothing and writes anew. Returns true when removed. A crash in between
// leaves the parked entry, which find_leftovers puts back or reports.
[[nodiscard]] Result<bool> remove_parked(Storage& storage, const std::string& parent, const std::string& name,
                                         const std::function<Result<bool>(const std::string& path)>& stale);

// True when the link file `path` is missing or older than `cutoff`. Errors: io_error.
[[nodiscard]] Result<bool> link_is_stale(Storage& storage, const std::string& path, Clock::time_point cutoff);

}  // namespace regd
