#include "gc_scan.h"

#include <deque>

#include "layout.h"
#include "leftovers.h"
#include "regd/manifest.h"
#include "registry_impl.h"

namespace regd {

namespace {

void note_newest(std::map<Digest, Clock::time_point>& newest, const Digest& digest, Clock::time_point mtime) {
  auto [it, inserted] = newest.emplace(digest, mtime);
  if (!inserted && it->second < mtime) {
    it->second = mtime;
  }
}

// Link files under "<root>/<alg>/<hex>/link" with their mtimes; a directory whose link is gone
// (deleted meanwhile, or never written) is skipped.
Status scan_link_dirs(Storage& storage, const std::string& root, std::map<Digest, LinkAge>& out) {
  return for_each_digest_dir(storage, root, [&](const Digest& digest) -> Status {
    std::string path = root + "/" + std::string(digest.algorithm_name()) + "/" + digest.hex() + "/link";
    auto info = storage.stat(path);
    if (!info) {
      return info.error().code == Errc::not_found ? Status{} : Status(std::unexpected(info.error()));
    }
    out.emplace(digest, LinkAge{path, info->mtime});
    return {};
  });
}

Status scan_tags(Storage& storage, RepoLinks& repo, const std::set<std::string>& ignore = {}) {
  auto listed = storage.list(layout::tags_dir(repo.repo), [&](const DirEntry& entry) -> Status {
    if (ignore.contains(entry.name)) {
      return {};
    }
    std::string path = layout::tag_current_link(repo.repo, entry.name);
    auto content = storage.read(path, 256);
    if (!content) {
      return content.error().code == Errc::not_found ? Status{} : Status(std::unexpected(content.error()));
    }
    auto digest = layout::parse_link(*content, path);
    if (!digest) {
      return std::unexpected(digest.error());
    }
    repo.tagged.insert(*digest);
    return {};
  });
  return listed || listed.error().code == Errc::not_found ? Status{} : listed;
}

Result<RepoLinks> scan_repo_links(Storage& storage, const std::string& name, bool with_tags,
                                  const std::set<std::string>& ignore_tags = {}) {
  RepoLinks repo{name, {}, {}, {}};
  REGD_TRY(scan_link_dirs(storage, layout::layers_root(name), repo.layers));
  REGD_TRY(scan_link_dirs(storage, layout::revisions_root(name), repo.revisions));
  if (with_tags) {
    REGD_TRY(scan_tags(storage, repo, ignore_tags));
  }
  return repo;
}

Status walk_repositories(Storage& storage, const std::string& dir, const std::string& prefix,
                         std::vector<std::string>& out) {
  bool is_repo = false;
  std::vector<std::string> children;
  auto listed = storage.list(dir, [&](const DirEntry& entry) -> Status {
    if (entry.type != EntryType::directory) {
      return {};
    }
    if (entry.name == "_layers" || entry.name == "_manifests" || entry.name == "_uploads") {
      is_repo = true;
    } else if (!entry.name.starts_with("_")) {
      children.push_back(entry.name);
    }
    return {};
  });
  if (!listed) {
    return listed.error().code == Errc::not_found ? Status{} : listed;
  }
  if (is_repo && !prefix.empty()) {
    out.push_back(prefix);
  }
  for (const std::string& child : children) {
    REGD_TRY(walk_repositories(storage, dir + "/" + child, prefix.empty() ? child : prefix + "/" + child, out));
  }
  return {};
}

enum class ManifestRead { parsed, in_progress, missing };

Result<std::string> read_twice(Storage& storage, const std::string& path) {
  auto content = storage.read(path, k_max_manifest_read);
  if (!content && content.error().code != Errc::not_found) {
    content = storage.read(path, k_max_manifest_read);  // a real read error is re-checked once
  }
  return content;
}

// Parses a manifest of `repo` into its references. A revision link without data is a PUT in
// progress while young (a PUT writes the data first and re-checks it after the link, so this is
// a GC trash race), and missing when old: a leftover or lost data, which the caller tells apart.
Result<ManifestRead> read_references(Storage& storage, const RepoLinks& repo, const Digest& digest,
                                     Clock::time_point cutoff, GcScan& scan,
                                     std::map<Digest, std::vector<Digest>>& referrers) {
  if (scan.references.contains(digest)) {
    if (auto subject = scan.subjects.find(digest); subject != scan.subjects.end()) {
      referrers[subject->second].push_back(digest);  // read for another repository already
    }
    return ManifestRead::parsed;
  }
  auto content = read_twice(storage, layout::blob_data(digest));
  if (!content) {
    if (content.error().code == Errc::not_found) {
      auto link = storage.stat(layout::revision_link(repo.repo, digest));
      return !link || link->mtime >= cutoff ? ManifestRead::in_progress : ManifestRead::missing;
    }
    return fail(content.error().code, "manifest " + digest.str() + " does not read: " + content.error().message);
  }
  auto parsed = parse_manifest("", *content);
  if (!parsed) {
    return fail(Errc::corrupt, "manifest " + digest.str() + " does not parse: " + parsed.error().message);
  }
  scan.references[digest] = manifest_references(*parsed);
  if (parsed->subject) {
    scan.subjects.emplace(digest, parsed->subject->digest);
    referrers[parsed->subject->digest].push_back(digest);
  }
  return ManifestRead::parsed;
}

// Marks what the repository's roots reach: references, index children, referrers of kept ones.
void mark_repo(const RepoLinks& repo, const GcOptions& options, Clock::time_point cutoff, GcScan& scan,
               const std::map<Digest, std::vector<Digest>>& referrers) {
  std::deque<Digest> queue;
  for (const auto& [digest, link] : repo.revisions) {
    if (!options.delete_untagged || repo.tagged.contains(digest) || link.mtime >= cutoff) {
      queue.push_back(digest);
    }
  }
  queue.insert(queue.end(), repo.tagged.begin(), repo.tagged.end());
  std::set<Digest> seen;
  while (!queue.empty()) {
    Digest digest = queue.front();
    queue.pop_front();
    if (!seen.insert(digest).second) {
      continue;
    }
    scan.marked.insert(digest);
    if (auto refs = scan.references.find(digest); refs != scan.references.end()) {
      for (const Digest& ref : refs->second) {
        scan.marked.insert(ref);
        if (repo.revisions.contains(ref)) {
          queue.push_back(ref);
        }
      }
    }
    if (auto found = referrers.find(digest); found != referrers.end()) {
      queue.insert(queue.end(), found->second.begin(), found->second.end());
    }
  }
  for (const auto& [digest, link] : repo.revisions) {
    if (!seen.contains(digest) && link.mtime < cutoff) {
      scan.doomed.emplace_back(repo.repo, digest);
    }
  }
}

}  // namespace

std::vector<Digest> manifest_references(const ParsedManifest& parsed) {
  std::vector<Digest> refs;
  if (parsed.config) {
    refs.push_back(parsed.config->digest);
  }
  for (const auto* list : {&parsed.layers, &parsed.manifests}) {
    for (const Descriptor& d : *list) {
      refs.push_back(d.digest);
    }
  }
  return refs;
}

Result<std::vector<std::string>> all_repositories(const std::shared_ptr<Storage>& storage) {
  std::vector<std::string> names;
  REGD_TRY(walk_repositories(*storage, layout::repositories_root(), "", names));
  return names;
}

namespace {

// Reads the references of every manifest of `repo`. Returns why the repository cannot be fully
// marked, or an empty string; leftover revision links are dropped from `repo`.
std::string read_repo_manifests(Storage& storage, RepoLinks& repo, Clock::time_point cutoff, GcScan& scan,
                                std::map<Digest, std::vector<Digest>>& referrers) {
  std::string reason;
  std::vector<Digest> missing;
  for (const auto& [digest, link] : repo.revisions) {
    auto read = read_references(storage, repo, digest, cutoff, scan, referrers);
    if (!read) {
      reason = read.error().message;
    } else if (*read == ManifestRead::missing) {
      missing.push_back(digest);
    }
  }
  std::set<Digest> referenced;
  for (const auto& [digest, link] : repo.revisions) {
    if (auto refs = scan.references.find(digest); refs != scan.references.end()) {
      referenced.insert(refs->second.begin(), refs->second.end());
    }
  }
  for (const Digest& digest : missing) {
    if (is_leftover_revision(digest, repo.tagged, referenced)) {
      repo.revisions.erase(digest);  // removed by the leftovers step
    } else {
      reason = "manifest " + digest.str() + " is tagged or referenced but its data is missing";
    }
  }
  return reason;
}

}  // namespace

Result<GcScan> scan_and_mark(const std::shared_ptr<Storage>& storage, const GcOptions& options,
                             Clock::time_point cutoff, const GcProgress& progress) {
  auto names = all_repositories(storage);
  if (!names) {
    return std::unexpected(names.error());
  }
  GcScan scan;
  for (const std::string& name : *names) {
    auto repo = scan_repo_links(*storage, name, true);
    if (!repo) {
      return std::unexpected(repo.error());
    }
    std::map<Digest, std::vector<Digest>> referrers;
    std::string reason = read_repo_manifests(*storage, *repo, cutoff, scan, referrers);
    if (reason.empty()) {
      mark_repo(*repo, options, cutoff, scan, referrers);
    } else {
      // Confined: whatever an unreadable manifest needs is linked in its repository.
      scan.incomplete.push_back({name, reason});
      GcOptions keep_all = options;
      keep_all.delete_untagged = false;
      mark_repo(*repo, keep_all, cutoff, scan, referrers);
      for (const auto* links : {&repo->layers, &repo->revisions}) {
        for (const auto& [digest, link] : *links) {
          scan.marked.insert(digest);
        }
      }
    }
    scan.manifests += repo->revisions.size();
    for (const auto* links : {&repo->layers, &repo->revisions}) {
      for (const auto& [digest, link] : *links) {
        note_newest(scan.newest_link, digest, link.mtime);
      }
    }
    scan.repos.push_back(std::move(*repo));
    if (progress) {
      progress("mark", scan.repos.size(), names->size());
    }
  }
  return scan;
}

Result<UntaggedScan> find_untagged(const std::shared_ptr<Storage>& storage, const std::string& repo,
                                   Clock::time_point cutoff, const std::set<std::string>& ignore_tags) {
  auto links = scan_repo_links(*storage, repo, true, ignore_tags);
  if (!links) {
    return std::unexpected(links.error());
  }
  GcScan scan;
  std::map<Digest, std::vector<Digest>> referrers;
  UntaggedScan out;
  out.incomplete = read_repo_manifests(*storage, *links, cutoff, scan, referrers);
  if (!out.incomplete.empty()) {
    return out;
  }
  GcOptions untagged;
  untagged.delete_untagged = true;
  mark_repo(*links, untagged, cutoff, scan, referrers);
  for (const auto& [name, digest] : scan.doomed) {
    out.doomed.emplace_back(digest, links->revisions.at(digest).mtime);
    if (auto subject = scan.subjects.find(digest); subject != scan.subjects.end()) {
      out.subjects.emplace(digest, subject->second);
    }
  }
  return out;
}

Result<std::set<Digest>> tag_targets(const std::shared_ptr<Storage>& storage, const std::string& repo) {
  RepoLinks links{repo, {}, {}, {}};
  REGD_TRY(scan_tags(*storage, links));
  return links.tagged;
}

Result<std::vector<RepoLinks>> scan_links(const std::shared_ptr<Storage>& storage) {
  auto names = all_repositories(storage);
  if (!names) {
    return std::unexpected(names.error());
  }
  std::vector<RepoLinks> repos;
  for (const std::string& name : *names) {
    auto repo = scan_repo_links(*storage, name, true);
    if (!repo) {
      return std::unexpected(repo.error());
    }
    repos.push_back(std::move(*repo));
  }
  return repos;
}

}  // namespace regd
