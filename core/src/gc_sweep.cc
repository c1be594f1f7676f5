#include "gc_sweep.h"

#include "layout.h"
#include "leftovers.h"
#include "registry_impl.h"

namespace regd {

namespace {

// Trash entries are named "<alg>-<hex>".
std::optional<Digest> parse_trash_name(const std::string& name) {
  auto dash = name.find('-');
  if (dash == std::string::npos) {
    return std::nullopt;
  }
  auto digest = Digest::parse(name.substr(0, dash) + ":" + name.substr(dash + 1));
  return digest ? std::optional<Digest>(*digest) : std::nullopt;
}

bool is_not_found(const Status& status) {
  return !status && status.error().code == Errc::not_found;
}

}  // namespace

GcSweep::GcSweep(std::shared_ptr<Storage> storage, const GcScan& scan, Clock::time_point cutoff, GcLease& lease,
                 GcReport& report)
    : m_storage(std::move(storage)),
      m_scan(scan),
      m_cutoff(cutoff),
      m_lease(lease),
      m_report(report),
      m_run_id("run-" + layout::random_hex(8)) {}

std::string GcSweep::trash_path(const Digest& digest) const {
  return layout::gc_trash(m_run_id) + "/" + std::string(digest.algorithm_name()) + "-" + digest.hex();
}

Status GcSweep::recover_old_trash() {
  std::vector<std::string> runs;
  auto listed = m_storage->list(layout::gc_trash_root(), [&](const DirEntry& entry) -> Status {
    runs.push_back(entry.name);
    return {};
  });
  if (!listed) {
    return is_not_found(listed) ? Status{} : listed;
  }
  for (const std::string& run : runs) {
    std::string dir = layout::gc_trash_root() + "/" + run;
    REGD_TRY(m_storage->list(dir, [&](const DirEntry& entry) -> Status {
      auto digest = parse_trash_name(entry.name);
      if (!digest) {
        return {};
      }
      // An interrupted run decided nothing final: everything goes back to be judged again.
      auto moved = m_storage->rename(dir + "/" + entry.name, layout::blob_dir(*digest));
      return moved || is_not_found(moved) ? Status{} : moved;
    }));
    REGD_TRY(m_storage->remove_all(dir));
  }
  return {};
}

Status GcSweep::remove_doomed() {
  for (const auto& [repo, digest] : m_scan.doomed) {
    auto info = m_storage->stat(layout::revision_link(repo, digest));
    if (!info || info->mtime >= m_cutoff) {
      continue;  // gone already, or pushed again meanwhile
    }
    REGD_TRY(m_storage->remove_all(layout::revision_dir(repo, digest)));
    m_unlinked.emplace(repo, digest);
    m_report.manifests_removed++;
    m_report.removed_manifests.push_back(repo + "@" + digest.str());
  }
  return {};
}

Status GcSweep::trash(const BlobInfo& blob) {
  auto moved = m_storage->rename(layout::blob_dir(blob.digest), trash_path(blob.digest));
  if (is_not_found(moved)) {
    return {};
  }
  REGD_TRY(moved);
  m_trashed.emplace(blob.digest, false);
  return {};
}

Status GcSweep::restore(const Digest& digest) {
  if (!m_restored.insert(digest).second) {
    return {};
  }
  auto it = m_trashed.find(digest);
  if (it != m_trashed.end() && !it->second) {
    auto moved = m_storage->rename(trash_path(digest), layout::blob_dir(digest));
    if (!moved) {
      // Only a blob pushed again meanwhile (a directory rename cannot replace it) makes the
      // trash copy redundant; any other failure keeps it and stops the run.
      if (!m_storage->stat(layout::blob_data(digest))) {
        return moved;
      }
      REGD_TRY(m_storage->remove_all(trash_path(digest)));
    }
    it->second = true;
    m_report.blobs_restored++;
  }
  if (auto refs = m_scan.references.find(digest); refs != m_scan.references.end()) {
    for (const Digest& ref : refs->second) {
      REGD_TRY(restore(ref));
    }
  }
  return {};
}

Status GcSweep::restore_all() {
  for (const auto& [digest, restored] : m_trashed) {
    REGD_TRY(restore(digest));
  }
  return {};
}

// Every link is read again after the trash step: a writer that refreshed a link before checking
// the data exists is seen here, so nothing it was told is stored can be deleted.
Status GcSweep::recheck() {
  auto repos = scan_links(m_storage);
  if (!repos) {
    return std::unexpected(repos.error());
  }
  for (const RepoLinks& repo : *repos) {
    for (const auto* links : {&repo.layers, &repo.revisions}) {
      for (const auto& [digest, link] : *links) {
        if (link.mtime >= m_cutoff) {
          REGD_TRY(restore(digest));
        }
      }
    }
    for (const Digest& digest : repo.tagged) {
      if (m_unlinked.contains({repo.repo, digest})) {
        // Tagged again after the mark: the manifest stays after all.
        REGD_TRY(m_storage->write_file(layout::revision_link(repo.repo, digest), layout::link_content(digest)));
      }
      REGD_TRY(restore(digest));
    }
  }
  return {};
}

Status GcSweep::delete_trashed(const BlobInfo& blob) {
  for (const RepoLinks& repo : m_scan.repos) {
    if (!repo.layers.contains(blob.digest)) {
      continue;
    }
    // Parked first: a writer refreshing the link at this instant keeps it (leftovers.h).
    std::string dir = layout::layer_dir(repo.repo, blob.digest);
    auto removed =
        remove_parked(*m_storage, dir.substr(0, dir.rfind('/')), blob.digest.hex(),
                      [&](const std::string& parked) { return link_is_stale(*m_storage, parked + "/link", m_cutoff); });
    if (!removed) {
      return std::unexpected(removed.error());
    }
  }
  REGD_TRY(m_storage->remove_all(trash_path(blob.digest)));
  m_report.blobs_removed++;
  m_report.bytes_removed += blob.size;
  m_report.removed_blobs.push_back(blob);
  return {};
}

Status GcSweep::sweep(const std::vector<BlobInfo>& candidates, const GcProgress& progress) {
  uint64_t done = 0;
  for (const BlobInfo& blob : candidates) {
    if (auto renewed = m_lease.renew(); !renewed) {
      (void)restore_all();
      return renewed;
    }
    if (auto trashed = trash(blob); !trashed) {
      (void)restore_all();
      return trashed;
    }
    if (progress) {
      progress("sweep", ++done, candidates.size());
    }
  }
  if (auto checked = recheck(); !checked) {
    (void)restore_all();
    return checked;
  }
  for (const BlobInfo& blob : candidates) {
    if (auto it = m_trashed.find(blob.digest); it != m_trashed.end() && !it->second) {
      REGD_TRY(delete_trashed(blob));
    }
  }
  return m_storage->remove_all(layout::gc_trash(m_run_id));
}

}  // namespace regd
