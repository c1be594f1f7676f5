#include "leftovers.h"

#include <algorithm>

#include "gc_lease.h"
#include "gc_scan.h"
#include "layout.h"
#include "regd/manifest.h"
#include "registry_impl.h"

namespace regd {

std::string_view leftover_kind_name(LeftoverKind kind) {
  switch (kind) {
    case LeftoverKind::temp_file:
      return "temp_file";
    case LeftoverKind::blob_without_data:
      return "blob_without_data";
    case LeftoverKind::layer_link:
      return "layer_link";
    case LeftoverKind::revision_link:
      return "revision_link";
    case LeftoverKind::upload_session:
      return "upload_session";
    case LeftoverKind::tag_without_current:
      return "tag_without_current";
  }
  return "unknown";
}

bool is_leftover_revision(const Digest& digest, const std::set<Digest>& tagged, const std::set<Digest>& referenced) {
  return !tagged.contains(digest) && !referenced.contains(digest);
}

namespace {

constexpr std::string_view k_parked_prefix = ".tmp-gc-";

Status ok_if_missing(Status status) {
  return status || status.error().code == Errc::not_found ? Status{} : status;
}

Result<std::optional<FileInfo>> stat_if_present(Storage& storage, const std::string& path) {
  auto info = storage.stat(path);
  if (info) {
    return std::optional<FileInfo>(*info);
  }
  if (info.error().code == Errc::not_found) {
    return std::optional<FileInfo>();
  }
  return std::unexpected(info.error());
}

// Newest mtime among the paths that exist (the epoch when none does).
Result<Clock::time_point> newest_mtime(Storage& storage, std::initializer_list<std::string> paths) {
  Clock::time_point newest{};
  for (const std::string& path : paths) {
    auto info = stat_if_present(storage, path);
    if (!info) {
      return std::unexpected(info.error());
    }
    if (*info && (*info)->mtime > newest) {
      newest = (*info)->mtime;
    }
  }
  return newest;
}

std::string parent_of(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

std::string base_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

// The digest a link directory ".../<alg>/<hex>" or a blob directory ".../<alg>/<hex[0:2]>/<hex>"
// names.
std::optional<Digest> digest_of_dir(const std::string& dir) {
  auto digest = Digest::parse(base_of(parent_of(dir)) + ":" + base_of(dir));
  if (!digest) {
    digest = Digest::parse(base_of(parent_of(parent_of(dir))) + ":" + base_of(dir));
  }
  return digest ? std::optional<Digest>(*digest) : std::nullopt;
}

// Puts a parked entry back under its own name; when a writer made a new one meanwhile, the new
// one wins and the parked copy goes.
Status unpark(Storage& storage, const std::string& parked, const std::string& original) {
  auto moved = storage.rename(parked, original);
  if (moved) {
    return {};
  }
  auto now = stat_if_present(storage, original);
  if (now && *now) {
    return storage.remove_all(parked);
  }
  return moved;
}

using LiveCheck = std::function<Result<bool>(const std::string& parked, const std::string& name)>;

class Finder {
 public:
  Finder(Storage& storage, Clock::time_point cutoff, bool restore, std::vector<Leftover>& out)
      : m_storage(storage), m_cutoff(cutoff), m_restore(restore), m_out(out) {}

  Status blob_store() {
    for (DigestAlgorithm algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
      std::string root = layout::blobs_root(algorithm);
      REGD_TRY(ok_if_missing(m_storage.list(root, [&](const DirEntry& prefix) -> Status {
        if (prefix.type != EntryType::directory) {
          return {};
        }
        return ok_if_missing(m_storage.list(root + "/" + prefix.name, [&](const DirEntry& entry) -> Status {
          auto digest = Digest::parse(std::string(algorithm_name(algorithm)) + ":" + entry.name);
          return digest && entry.type == EntryType::directory ? blob(*digest) : Status{};
        }));
      })));
    }
    return {};
  }

  // GC's directory, the one of the storage clock outside GC (sorted_names.h), and beneath it the
  // catalog's sorted lists (listing.cc), one directory per name prefix.
  Status gc_dir() {
    REGD_TRY(temps(layout::gc_root(), "", nullptr));
    std::string clock = layout::storage_clock();
    std::string regd_dir = clock.substr(0, clock.rfind('/'));
    REGD_TRY(temps(regd_dir, "", nullptr));
    std::string lists = layout::catalog_list("");
    return catalog_lists(lists.substr(0, lists.rfind('/')), 0);
  }

  Status catalog_lists(const std::string& dir, int depth) {
    REGD_TRY(temps(dir, "", nullptr));
    return ok_if_missing(m_storage.list(dir, [&](const DirEntry& entry) -> Status {
      // A name has at most 128 components: nothing deeper was written by regd.
      return entry.type == EntryType::directory && depth < 128 ? catalog_lists(dir + "/" + entry.name, depth + 1)
                                                               : Status{};
    }));
  }

  Status repository(const std::string& repo) {
    REGD_TRY(link_root(repo, layout::layers_root(repo), LeftoverKind::layer_link));
    REGD_TRY(link_root(repo, layout::revisions_root(repo), LeftoverKind::revision_link));
    REGD_TRY(revisions_without_data(repo));
    REGD_TRY(temps(layout::manifests_root(repo), repo, nullptr));  // a sorted tag list's write
    REGD_TRY(tags(repo));
    REGD_TRY(referrers(repo));
    return uploads(repo);
  }

 private:
  void add(LeftoverKind kind, std::string path, const std::string& repo, Clock::time_point mtime, uint64_t bytes) {
    m_out.push_back(Leftover{kind, std::move(path), repo, mtime, bytes, mtime < m_cutoff});
  }

  // The ".tmp-" entries of `dir`. A parked entry (".tmp-gc-<name>", see remove_parked) that
  // `live` still needs is put back with `m_restore`, else reported as not removable.
  Status temps(const std::string& dir, const std::string& repo, const LiveCheck& live) {
    std::vector<std::pair<std::string, FileInfo>> found;
    REGD_TRY(ok_if_missing(m_storage.list_temps(dir, [&](const DirEntry& entry, const FileInfo& info) -> Status {
      found.emplace_back(entry.name, info);
      return {};
    })));
    for (const auto& [name, info] : found) {
      std::string path = dir + "/" + name;
      uint64_t bytes = info.type == EntryType::file ? info.size : 0;
      if (live && name.starts_with(k_parked_prefix)) {
        std::string original = name.substr(k_parked_prefix.size());
        auto needed = live(path, original);
        if (!needed) {
          return std::unexpected(needed.error());
        }
        if (*needed) {
          if (m_restore) {
            REGD_TRY(unpark(m_storage, path, dir + "/" + original));
          } else {
            m_out.push_back(Leftover{LeftoverKind::temp_file, path, repo, info.mtime, bytes, false});
          }
          continue;
        }
      }
      add(LeftoverKind::temp_file, path, repo, info.mtime, bytes);
    }
    return {};
  }

  Status blob(const Digest& digest) {
    std::string dir = layout::blob_dir(digest);
    REGD_TRY(temps(dir, "", nullptr));
    auto data = stat_if_present(m_storage, layout::blob_data(digest));
    if (!data) {
      return std::unexpected(data.error());
    }
    if (*data) {
      m_blobs.insert(digest);
      return {};
    }
    auto info = stat_if_present(m_storage, dir);
    if (!info) {
      return std::unexpected(info.error());
    }
    if (*info) {
      add(LeftoverKind::blob_without_data, dir, "", (*info)->mtime, 0);
    }
    return {};
  }

  // "<root>/<alg>/<hex>/link" for layer and revision links. A link to a blob that is not stored
  // is a leftover for layers; for revisions only when nothing needs it (revisions_without_data).
  Status link_root(const std::string& repo, const std::string& root, LeftoverKind kind) {
    for (DigestAlgorithm algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
      std::string dir = root + "/" + std::string(algorithm_name(algorithm));
      std::string prefix = std::string(algorithm_name(algorithm)) + ":";
      REGD_TRY(temps(dir, repo, [&](const std::string& parked, const std::string& name) -> Result<bool> {
        auto digest = Digest::parse(prefix + name);
        auto link = stat_if_present(m_storage, parked + "/link");
        if (!link) {
          return std::unexpected(link.error());
        }
        return digest && *link && m_blobs.contains(*digest);
      }));
      std::vector<std::string> names;
      REGD_TRY(ok_if_missing(m_storage.list(dir, [&](const DirEntry& entry) -> Status {
        if (entry.type == EntryType::directory && Digest::parse(prefix + entry.name)) {
          names.push_back(entry.name);
        }
        return {};
      })));
      for (const std::string& name : names) {
        REGD_TRY(link_dir(repo, dir + "/" + name, *Digest::parse(prefix + name), kind));
      }
    }
    return {};
  }

  Status link_dir(const std::string& repo, const std::string& dir, const Digest& digest, LeftoverKind kind) {
    auto link = stat_if_present(m_storage, dir + "/link");
    if (!link) {
      return std::unexpected(link.error());
    }
    if (!*link) {
      return temps(dir, repo, nullptr);
    }
    if (m_blobs.contains(digest)) {
      return {};
    }
    if (kind == LeftoverKind::layer_link) {
      add(kind, dir, repo, (*link)->mtime, 0);
    } else {
      m_unstored.emplace_back(dir, (*link)->mtime);
    }
    return {};
  }

  Status revisions_without_data(const std::string& repo) {
    auto pending = std::exchange(m_unstored, {});
    if (pending.empty()) {
      return {};
    }
    std::set<Digest> tagged;
    std::set<Digest> referenced;
    REGD_TRY(read_tags(repo, tagged));
    REGD_TRY(read_references(repo, referenced));
    for (const auto& [dir, mtime] : pending) {
      if (auto digest = digest_of_dir(dir); digest && is_leftover_revision(*digest, tagged, referenced)) {
        add(LeftoverKind::revision_link, dir, repo, mtime, 0);
      }
    }
    return {};
  }

  Status read_tags(const std::string& repo, std::set<Digest>& tagged) {
    return ok_if_missing(m_storage.list(layout::tags_dir(repo), [&](const DirEntry& entry) -> Status {
      std::string path = layout::tag_current_link(repo, entry.name);
      auto content = m_storage.read(path, layout::k_max_link_size);
      if (!content) {
        return ok_if_missing(Status(std::unexpected(content.error())));
      }
      if (auto digest = layout::parse_link(*content, path)) {
        tagged.insert(*digest);
      }
      return {};
    }));
  }

  // Everything the stored manifests of `repo` reference.
  Status read_references(const std::string& repo, std::set<Digest>& referenced) {
    return for_each_digest_dir(m_storage, layout::revisions_root(repo), [&](const Digest& digest) -> Status {
      if (!m_blobs.contains(digest)) {
        return {};
      }
      auto content = m_storage.read(layout::blob_data(digest), k_max_manifest_read);
      if (!content) {
        return ok_if_missing(Status(std::unexpected(content.error())));
      }
      if (auto parsed = parse_manifest("", *content)) {
        for (const Digest& ref : manifest_references(*parsed)) {
          referenced.insert(ref);
        }
      }
      return {};
    });
  }

  Status tags(const std::string& repo) {
    std::string root = layout::tags_dir(repo);
    REGD_TRY(temps(root, repo, [&](const std::string& parked, const std::string&) -> Result<bool> {
      auto current = stat_if_present(m_storage, parked + "/current/link");
      if (!current) {
        return std::unexpected(current.error());
      }
      return current->has_value();
    }));
    std::vector<std::string> names;
    REGD_TRY(ok_if_missing(m_storage.list(root, [&](const DirEntry& entry) -> Status {
      if (entry.type == EntryType::directory) {
        names.push_back(entry.name);
      }
      return {};
    })));
    for (const std::string& tag : names) {
      std::string current = layout::tag_current_link(repo, tag);
      auto link = stat_if_present(m_storage, current);
      if (!link) {
        return std::unexpected(link.error());
      }
      if (*link) {
        // Temp files of a killed tag move beside links that stay.
        REGD_TRY(temps(parent_of(current), repo, nullptr));
        std::string index = layout::tag_dir(repo, tag) + "/index";
        REGD_TRY(for_each_digest_dir(m_storage, index, [&](const Digest& digest) -> Status {
          return temps(index + "/" + std::string(digest.algorithm_name()) + "/" + digest.hex(), repo, nullptr);
        }));
      } else {
        auto mtime = newest_mtime(m_storage, {layout::tag_dir(repo, tag), parent_of(current)});
        if (!mtime) {
          return std::unexpected(mtime.error());
        }
        add(LeftoverKind::tag_without_current, layout::tag_dir(repo, tag), repo, *mtime, 0);
      }
    }
    return {};
  }

  // Temp files of a killed referrers-index write; the entries themselves are judged by readers.
  Status referrers(const std::string& repo) {
    return for_each_digest_dir(m_storage, layout::referrers_dir(repo), [&](const Digest& subject) -> Status {
      std::string dir = layout::referrers_subject_dir(repo, subject);
      return for_each_digest_dir(m_storage, dir, [&](const Digest& referrer) -> Status {
        return temps(layout::referrer_dir(repo, subject, referrer), repo, nullptr);
      });
    });
  }

  Status uploads(const std::string& repo) {
    std::string root = layout::uploads_root(repo);
    REGD_TRY(temps(root, repo, nullptr));
    std::vector<std::string> ids;
    REGD_TRY(ok_if_missing(m_storage.list(root, [&](const DirEntry& entry) -> Status {
      if (entry.type == EntryType::directory && layout::is_upload_id(entry.name)) {
        ids.push_back(entry.name);
      }
      return {};
    })));
    for (const std::string& id : ids) {
      auto started = stat_if_present(m_storage, layout::upload_started_at(repo, id));
      if (!started) {
        return std::unexpected(started.error());
      }
      if (*started) {
        for (DigestAlgorithm algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
          REGD_TRY(temps(layout::upload_dir(repo, id) + "/hashstates/" + std::string(algorithm_name(algorithm)), repo,
                         nullptr));
        }
        continue;
      }
      auto data = stat_if_present(m_storage, layout::upload_data(repo, id));
      auto mtime = newest_mtime(m_storage, {layout::upload_dir(repo, id), layout::upload_data(repo, id)});
      if (!data || !mtime) {
        return std::unexpected(!data ? data.error() : mtime.error());
      }
      add(LeftoverKind::upload_session, layout::upload_dir(repo, id), repo, *mtime, *data ? (*data)->size : 0);
    }
    return {};
  }

  Storage& m_storage;
  Clock::time_point m_cutoff;
  bool m_restore;
  std::vector<Leftover>& m_out;
  std::set<Digest> m_blobs;                                           // blobs whose data is stored
  std::vector<std::pair<std::string, Clock::time_point>> m_unstored;  // revision link dirs without data
};

// Re-checks one removable leftover and removes it when it is still garbage.
Result<bool> remove_one(Storage& storage, const Leftover& leftover, Clock::time_point cutoff) {
  switch (leftover.kind) {
    case LeftoverKind::temp_file: {
      auto info = stat_if_present(storage, leftover.path);
      if (!info || !*info || (*info)->mtime >= cutoff) {
        return info ? Result<bool>(false) : std::unexpected(info.error());
      }
      REGD_TRY(storage.remove_all(leftover.path));
      return true;
    }
    case LeftoverKind::blob_without_data: {
      // Old when found; removing its temp files just made its mtime new, so only the data is
      // checked again, and remove() fails on a directory a writer put a temp file in meanwhile.
      auto digest = digest_of_dir(leftover.path);
      if (!digest) {
        return false;
      }
      auto data = stat_if_present(storage, layout::blob_data(*digest));
      if (!data || *data) {
        return data ? Result<bool>(false) : std::unexpected(data.error());
      }
      auto removed = storage.remove(leftover.path);  // only when empty: a young temp keeps it
      return removed ? Result<bool>(true) : Result<bool>(false);
    }
    case LeftoverKind::layer_link:
    case LeftoverKind::revision_link: {
      auto digest = digest_of_dir(leftover.path);
      if (!digest) {
        return false;
      }
      auto data = stat_if_present(storage, layout::blob_data(*digest));
      if (!data || *data) {
        return data ? Result<bool>(false) : std::unexpected(data.error());
      }
      return remove_parked(storage, parent_of(leftover.path), base_of(leftover.path),
                           [&](const std::string& parked) { return link_is_stale(storage, parked + "/link", cutoff); });
    }
    case LeftoverKind::tag_without_current:
      return remove_parked(storage, parent_of(leftover.path), base_of(leftover.path),
                           [&](const std::string& parked) -> Result<bool> {
                             auto current = stat_if_present(storage, parked + "/current/link");
                             auto mtime = newest_mtime(storage, {parked, parked + "/current"});
                             if (!current || !mtime) {
                               return std::unexpected(!current ? current.error() : mtime.error());
                             }
                             return !*current && *mtime < cutoff;
                           });
    case LeftoverKind::upload_session: {
      auto started = stat_if_present(storage, leftover.path + "/startedat");
      auto mtime = newest_mtime(storage, {leftover.path, leftover.path + "/data"});
      if (!started || !mtime || *started || *mtime >= cutoff) {
        return started && mtime ? Result<bool>(false) : std::unexpected(!started ? started.error() : mtime.error());
      }
      auto lock = storage.lock(leftover.path + "/lock", false);
      if (!lock) {
        return false;  // a request holds it right now
      }
      REGD_TRY(storage.remove_all(leftover.path));
      return true;
    }
  }
  return false;
}

}  // namespace

Result<bool> link_is_stale(Storage& storage, const std::string& path, Clock::time_point cutoff) {
  auto info = stat_if_present(storage, path);
  if (!info) {
    return std::unexpected(info.error());
  }
  return !*info || (*info)->mtime < cutoff;
}

Result<bool> remove_parked(Storage& storage, const std::string& parent, const std::string& name,
                           const std::function<Result<bool>(const std::string& path)>& stale) {
  std::string original = parent + "/" + name;
  std::string parked = parent + "/" + std::string(k_parked_prefix) + name;
  auto moved = storage.rename(original, parked);
  if (!moved) {
    return moved.error().code == Errc::not_found ? Result<bool>(false) : std::unexpected(moved.error());
  }
  auto still = stale(parked);
  if (still && *still) {
    REGD_TRY(storage.remove_all(parked));
    return true;
  }
  REGD_TRY(unpark(storage, parked, original));
  return still ? Result<bool>(false) : std::unexpected(still.error());
}

Status find_leftovers(Storage& storage, const std::vector<std::string>& repos, Clock::time_point cutoff, bool restore,
                      std::vector<Leftover>& out) {
  Finder finder(storage, cutoff, restore, out);
  REGD_TRY(finder.blob_store());
  REGD_TRY(finder.gc_dir());
  for (const std::string& repo : repos) {
    REGD_TRY(finder.repository(repo));
  }
  return {};
}

Result<uint64_t> remove_leftovers(Storage& storage, std::vector<Leftover>& leftovers, Clock::time_point cutoff) {
  uint64_t removed = 0;
  for (Leftover& leftover : leftovers) {
    if (!leftover.removable) {
      continue;
    }
    auto gone = remove_one(storage, leftover, cutoff);
    if (!gone) {
      return std::unexpected(gone.error());
    }
    leftover.removable = *gone;
    removed += *gone ? 1 : 0;
  }
  return removed;
}

Result<LeftoverReport> collect_leftovers(std::shared_ptr<Storage> storage, const LeftoverOptions& options) {
  if (options.grace.count() < 0 || options.lease_ttl.count() <= 0) {
    return fail(Errc::invalid_argument, "leftovers: grace must not be negative, lease TTL positive");
  }
  auto start =
      start_gc_run(*storage, options.dry_run, options.holder.empty() ? "repair" : options.holder, options.lease_ttl);
  if (!start) {
    return std::unexpected(start.error());
  }
  std::unique_ptr<GcLease> lease = std::move(start->lease);
  LeftoverReport report;
  report.t0 = start->t0;
  Clock::time_point cutoff = report.t0 - options.grace;
  auto repos = all_repositories(storage);
  if (!repos) {
    return std::unexpected(repos.error());
  }
  REGD_TRY(find_leftovers(*storage, *repos, cutoff, !options.dry_run, report.found));
  if (lease) {
    REGD_TRY(lease->renew());
    auto removed = remove_leftovers(*storage, report.found, cutoff);
    if (!removed) {
      return std::unexpected(removed.error());
    }
    report.removed = *removed;
  }
  return report;
}

}  // namespace regd
