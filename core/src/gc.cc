#include "regd/gc.h"

#include <algorithm>

#include "gc_lease.h"
#include "gc_scan.h"
#include "gc_sweep.h"
#include "layout.h"
#include "leftovers.h"
#include "regd/inspect.h"
#include "registry_impl.h"

namespace regd {

namespace {

// Unmarked blobs old enough to go: data and every link older than the cutoff.
Result<std::vector<BlobInfo>> find_candidates(Storage& storage, Inspector& inspector, const GcScan& scan,
                                              Clock::time_point cutoff, GcReport& report) {
  std::vector<BlobInfo> candidates;
  REGD_TRY(inspector.for_each_blob([&](const BlobInfo& blob) -> Status {
    if (scan.marked.contains(blob.digest)) {
      report.blobs_marked++;
      return {};
    }
    auto info = storage.stat(layout::blob_data(blob.digest));
    if (!info) {
      return info.error().code == Errc::not_found ? Status{} : Status(std::unexpected(info.error()));
    }
    auto link = scan.newest_link.find(blob.digest);
    if (info->mtime >= cutoff || (link != scan.newest_link.end() && link->second >= cutoff)) {
      report.blobs_young++;
      return {};
    }
    candidates.push_back(blob);
    return {};
  }));
  return candidates;
}

struct StaleUpload {
  std::string repo;
  std::string id;
  uint64_t size = 0;
};

// A session is stale only when every clock says so: startedat (the clock of the instance that
// started it) and the storage mtimes of startedat, the session directory and its data. A session
// without startedat is not one (never published, or being removed): the leftovers step judges it.
Result<bool> upload_is_stale(Storage& storage, const std::string& repo, const std::string& id,
                             Clock::time_point cutoff) {
  auto started = storage.read(layout::upload_started_at(repo, id), 256);
  if (!started) {
    return started.error().code == Errc::not_found ? Result<bool>(false) : std::unexpected(started.error());
  }
  if (auto started_at = layout::parse_time(*started); started_at && *started_at >= cutoff) {
    return false;
  }
  for (const std::string& path :
       {layout::upload_started_at(repo, id), layout::upload_dir(repo, id), layout::upload_data(repo, id)}) {
    auto info = storage.stat(path);
    if (!info && info.error().code != Errc::not_found) {
      return std::unexpected(info.error());
    }
    if (info && info->mtime >= cutoff) {
      return false;
    }
  }
  return true;
}

// Stale: older than the upload TTL (`cutoff`), or, for a session that never received a byte,
// older than the grace window (`empty_cutoff`): an empty session costs inodes and counts
// against the per-repository session cap, and a client gone for that long restarts its upload.
Result<std::vector<StaleUpload>> find_stale_uploads(Storage& storage, const GcScan& scan, Clock::time_point cutoff,
                                                    Clock::time_point empty_cutoff) {
  std::vector<StaleUpload> stale;
  for (const RepoLinks& repo : scan.repos) {
    std::vector<std::string> ids;
    auto listed = storage.list(layout::uploads_root(repo.repo), [&](const DirEntry& entry) -> Status {
      if (layout::is_upload_id(entry.name)) {
        ids.push_back(entry.name);
      }
      return {};
    });
    if (!listed && listed.error().code != Errc::not_found) {
      return std::unexpected(listed.error());
    }
    for (const std::string& id : ids) {
      auto data = storage.stat(layout::upload_data(repo.repo, id));
      bool empty = !data || data->size == 0;
      auto old = upload_is_stale(storage, repo.repo, id, empty ? std::max(cutoff, empty_cutoff) : cutoff);
      if (!old) {
        return std::unexpected(old.error());
      }
      if (*old) {
        stale.push_back({repo.repo, id, data ? data->size : 0});
      }
    }
  }
  return stale;
}

// A session another request is appending to right now is skipped (its lock is held).
Status purge_uploads(Storage& storage, const std::vector<StaleUpload>& stale, GcReport& report) {
  for (const StaleUpload& upload : stale) {
    auto lock = storage.lock(layout::upload_lock(upload.repo, upload.id), false);
    if (!lock) {
      continue;
    }
    // startedat first: the session vanishes at once, a crash leaves a leftover (leftovers.h).
    auto unpublished = storage.remove(layout::upload_started_at(upload.repo, upload.id));
    if (!unpublished && unpublished.error().code != Errc::not_found) {
      return unpublished;
    }
    REGD_TRY(storage.remove_all(layout::upload_dir(upload.repo, upload.id)));
    report.uploads_removed++;
    report.upload_bytes_removed += upload.size;
    report.removed_uploads.push_back(upload.repo + " " + upload.id);
  }
  return {};
}

// Finds the crash leftovers older than the cutoff and, unless dry_run, removes them.
Status collect_crash_leftovers(Storage& storage, const GcScan& scan, Clock::time_point cutoff, bool dry_run,
                               GcReport& report) {
  std::vector<std::string> repos;
  for (const RepoLinks& repo : scan.repos) {
    repos.push_back(repo.repo);
  }
  std::vector<Leftover> found;
  REGD_TRY(find_leftovers(storage, repos, cutoff, !dry_run, found));
  if (!dry_run) {
    auto removed = remove_leftovers(storage, found, cutoff);
    if (!removed) {
      return std::unexpected(removed.error());
    }
    report.leftovers_removed = *removed;
  }
  for (Leftover& leftover : found) {
    if (leftover.removable) {
      report.leftovers.push_back(std::move(leftover));
    }
  }
  if (dry_run) {
    report.leftovers_removed = report.leftovers.size();
  }
  return {};
}

void report_dry_run(const GcScan& scan, const std::vector<BlobInfo>& candidates,
                    const std::vector<StaleUpload>& uploads, GcReport& report) {
  for (const BlobInfo& blob : candidates) {
    report.blobs_removed++;
    report.bytes_removed += blob.size;
    report.removed_blobs.push_back(blob);
  }
  for (const auto& [repo, digest] : scan.doomed) {
    report.manifests_removed++;
    report.removed_manifests.push_back(repo + "@" + digest.str());
  }
  for (const StaleUpload& upload : uploads) {
    report.uploads_removed++;
    report.upload_bytes_removed += upload.size;
    report.removed_uploads.push_back(upload.repo + " " + upload.id);
  }
}

}  // namespace

Result<GcReport> collect_garbage(std::shared_ptr<Storage> storage, const GcOptions& options,
                                 const GcProgress& progress) {
  if (options.grace.count() < 0 || options.upload_ttl.count() < 0 || options.lease_ttl.count() <= 0) {
    return fail(Errc::invalid_argument, "gc: grace and upload TTL must not be negative, lease TTL positive");
  }
  auto start =
      start_gc_run(*storage, options.dry_run, options.holder.empty() ? "gc" : options.holder, options.lease_ttl);
  if (!start) {
    return std::unexpected(start.error());
  }
  std::unique_ptr<GcLease> lease = std::move(start->lease);
  GcReport report;
  report.t0 = start->t0;
  Clock::time_point cutoff = report.t0 - options.grace;
  if (lease) {
    GcScan empty;
    REGD_TRY(GcSweep(storage, empty, cutoff, *lease, report).recover_old_trash());
  }
  auto scan = scan_and_mark(storage, options, cutoff, progress);
  if (!scan) {
    return std::unexpected(scan.error());
  }
  report.repositories = scan->repos.size();
  report.manifests_marked = scan->manifests;
  auto inspector = make_inspector(storage);
  auto candidates = find_candidates(*storage, *inspector, *scan, cutoff, report);
  if (!candidates) {
    return std::unexpected(candidates.error());
  }
  auto uploads = find_stale_uploads(*storage, *scan, report.t0 - options.upload_ttl, cutoff);
  if (!uploads) {
    return std::unexpected(uploads.error());
  }
  report.incomplete = scan->incomplete;
  if (options.dry_run) {
    report_dry_run(*scan, *candidates, *uploads, report);
    REGD_TRY(collect_crash_leftovers(*storage, *scan, cutoff, true, report));
    return report;
  }
  REGD_TRY(lease->renew());
  GcSweep sweep(storage, *scan, cutoff, *lease, report);
  REGD_TRY(sweep.remove_doomed());
  REGD_TRY(sweep.sweep(*candidates, progress));
  REGD_TRY(purge_uploads(*storage, *uploads, report));
  REGD_TRY(lease->renew());
  REGD_TRY(collect_crash_leftovers(*storage, *scan, cutoff, false, report));
  return report;
}

}  // namespace regd
