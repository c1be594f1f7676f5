#include "regd/retention.h"

#include <algorithm>
#include <set>

#include "gc_lease.h"
#include "gc_scan.h"
#include "layout.h"
#include "regd/reference.h"
#include "regd/registry.h"
#include "registry_impl.h"
#include "sorted_tags.h"

namespace regd {

namespace {

// A tag as it is now: where it points and when it was last set; nullopt when it is gone or its
// link does not parse (not a tag prune may judge).
Result<std::optional<PrunedTag>> read_tag(Storage& storage, const std::string& repo, const std::string& tag,
                                          const std::string& path) {
  auto info = storage.stat(path);
  auto content = storage.read(path, layout::k_max_link_size);
  if (!info || !content) {
    const Error& error = !info ? info.error() : content.error();
    return error.code == Errc::not_found ? Result<std::optional<PrunedTag>>(std::nullopt) : std::unexpected(error);
  }
  auto digest = layout::parse_link(*content, path);
  if (!digest) {
    return std::nullopt;
  }
  return PrunedTag{repo, tag, *digest, info->mtime};
}

bool same_tag(const std::optional<PrunedTag>& now, const PrunedTag& judged) {
  return now && now->digest == judged.digest && now->pushed == judged.pushed;
}

Result<std::vector<PrunedTag>> read_tags(Storage& storage, const std::string& repo) {
  auto names = read_tag_names(storage, repo);
  if (!names) {
    return std::unexpected(names.error());
  }
  std::vector<PrunedTag> tags;
  for (const std::string& name : *names) {
    auto tag = read_tag(storage, repo, name, layout::tag_current_link(repo, name));
    if (!tag) {
      return std::unexpected(tag.error());
    }
    if (*tag) {
      tags.push_back(std::move(**tag));
    }
  }
  return tags;
}

// The matching tags no keep rule keeps, newest first order decides the count rule.
std::vector<PrunedTag> doomed_tags(std::vector<PrunedTag> tags, const RetentionPolicy& policy, Clock::time_point t0,
                                   PruneReport& report) {
  std::erase_if(tags, [&](const PrunedTag& tag) {
    bool other = !policy.match.empty() && !tag_matches_any(tag.tag, policy.match);
    report.tags_kept += other ? 1 : 0;
    return other;
  });
  std::sort(tags.begin(), tags.end(), [](const PrunedTag& a, const PrunedTag& b) {
    return a.pushed != b.pushed ? a.pushed > b.pushed : a.tag < b.tag;
  });
  std::vector<PrunedTag> doomed;
  for (size_t rank = 0; rank < tags.size(); ++rank) {
    bool newest = policy.keep_newest && rank < *policy.keep_newest;
    bool recent = policy.keep_within && tags[rank].pushed >= t0 - *policy.keep_within;
    bool ruled = policy.keep_newest || policy.keep_within;
    if (!ruled || newest || recent) {
      ++report.tags_kept;
    } else {
      doomed.push_back(tags[rank]);
    }
  }
  return doomed;
}

// Removes a tag only if it is still exactly as judged. The current link is parked under a temp
// name first: a writer's rename that landed just before is then seen in the parked copy and put
// back, so a re-pointed tag is never lost. Returns false when the tag changed (kept).
Result<bool> remove_tag_if_unchanged(Storage& storage, const PrunedTag& judged) {
  const std::string& repo = judged.repository;
  std::string current = layout::tag_current_link(repo, judged.tag);
  auto before = read_tag(storage, repo, judged.tag, current);
  if (!before) {
    return std::unexpected(before.error());
  }
  if (!same_tag(*before, judged)) {
    return false;
  }
  std::string parked = layout::tag_current_dir(repo, judged.tag) + "/.tmp-prune-" + layout::random_hex(8);
  if (auto moved = storage.rename(current, parked); !moved) {
    return is_missing(moved) ? Result<bool>(false) : std::unexpected(moved.error());
  }
  auto taken = read_tag(storage, repo, judged.tag, parked);
  if (!taken || !same_tag(*taken, judged)) {
    // A writer set the tag between the check and the rename: its link goes back unless an even
    // newer one is there already.
    bool newer = static_cast<bool>(storage.stat(current));
    REGD_TRY(newer ? storage.remove(parked) : storage.rename(parked, current));
    return taken ? Result<bool>(false) : std::unexpected(taken.error());
  }
  REGD_TRY(storage.remove(parked));
  // The rest of the tag directory goes only while no writer has re-created the tag: a current
  // directory that is not empty any more stops the clean-up (GC removes what remains).
  if (storage.remove(layout::tag_current_dir(repo, judged.tag))) {
    REGD_TRY(storage.remove_all(layout::tag_index_dir(repo, judged.tag)));
    (void)storage.remove(layout::tag_dir(repo, judged.tag));
  }
  return true;
}

// Removes an untagged manifest's revision link (and its referrers entry) unless a tag points at
// it now or it was pushed again since it was judged.
Result<bool> remove_untagged(Storage& storage, const PrunedManifest& judged, const std::optional<Digest>& subject,
                             const std::set<Digest>& tagged_now) {
  auto info = storage.stat(layout::revision_link(judged.repository, judged.digest));
  if (!info) {
    return info.error().code == Errc::not_found ? Result<bool>(false) : std::unexpected(info.error());
  }
  if (info->mtime != judged.pushed || tagged_now.contains(judged.digest)) {
    return false;
  }
  if (subject) {
    REGD_TRY(storage.remove_all(layout::referrer_dir(judged.repository, *subject, judged.digest)));
  }
  REGD_TRY(storage.remove_all(layout::revision_dir(judged.repository, judged.digest)));
  return true;
}

Status prune_tags(Storage& storage, const std::string& repo, const PruneOptions& options, Clock::time_point t0,
                  PruneReport& report, std::set<std::string>& gone) {
  auto tags = read_tags(storage, repo);
  if (!tags) {
    return std::unexpected(tags.error());
  }
  for (PrunedTag& tag : doomed_tags(std::move(*tags), options.policy, t0, report)) {
    if (tag_matches_any(tag.tag, options.immutable_tags)) {
      report.immutable.push_back(std::move(tag));
      continue;
    }
    bool removed = true;
    if (!options.dry_run) {
      auto done = remove_tag_if_unchanged(storage, tag);
      if (!done) {
        return std::unexpected(done.error());
      }
      removed = *done;
    }
    if (removed) {
      gone.insert(tag.tag);
    }
    (removed ? report.removed_tags : report.moved).push_back(std::move(tag));
  }
  return {};
}

Status prune_untagged(const std::shared_ptr<Storage>& storage, const std::string& repo, const PruneOptions& options,
                      Clock::time_point t0, const std::set<std::string>& gone, PruneReport& report) {
  Clock::time_point cutoff = t0 - *options.policy.untagged_older_than;
  auto scan = find_untagged(storage, repo, cutoff, options.dry_run ? gone : std::set<std::string>{});
  if (!scan) {
    return std::unexpected(scan.error());
  }
  if (!scan->incomplete.empty()) {
    report.incomplete.push_back({repo, scan->incomplete});
    return {};
  }
  auto tagged_now = tag_targets(storage, repo);
  if (!tagged_now) {
    return std::unexpected(tagged_now.error());
  }
  for (const auto& [digest, pushed] : scan->doomed) {
    PrunedManifest manifest{repo, digest, pushed};
    if (!options.dry_run) {
      auto subject = scan->subjects.find(digest);
      auto done =
          remove_untagged(*storage, manifest,
                          subject == scan->subjects.end() ? std::nullopt : std::optional(subject->second), *tagged_now);
      if (!done) {
        return std::unexpected(done.error());
      }
      if (!*done) {
        continue;
      }
    }
    report.removed_manifests.push_back(std::move(manifest));
  }
  return {};
}

Result<std::vector<std::string>> repositories_to_prune(const std::shared_ptr<Storage>& storage,
                                                       const PruneOptions& options) {
  if (options.repositories.empty()) {
    return all_repositories(storage);
  }
  for (const std::string& repo : options.repositories) {
    REGD_TRY(validate_repository(repo));
    auto info = storage->stat(layout::repo_dir(repo));
    if (!info) {
      return on_not_found(Result<std::vector<std::string>>(std::unexpected(info.error())), Errc::name_unknown,
                          "repository " + repo + " not found");
    }
  }
  return options.repositories;
}

}  // namespace

Result<PruneReport> prune(std::shared_ptr<Storage> storage, const PruneOptions& options) {
  const RetentionPolicy& policy = options.policy;
  if (!policy.active()) {
    return fail(Errc::invalid_argument, "prune: no rule (keep newest, keep within, untagged older than)");
  }
  if ((policy.keep_within && policy.keep_within->count() < 0) ||
      (policy.untagged_older_than && policy.untagged_older_than->count() < 0)) {
    return fail(Errc::invalid_argument, "prune: durations must not be negative");
  }
  auto repos = repositories_to_prune(storage, options);
  if (!repos) {
    return std::unexpected(repos.error());
  }
  auto start =
      start_gc_run(*storage, options.dry_run, options.holder.empty() ? "prune" : options.holder, options.lease_ttl);
  if (!start) {
    return std::unexpected(start.error());
  }
  PruneReport report;
  report.t0 = start->t0;
  for (const std::string& repo : *repos) {
    std::set<std::string> gone;
    REGD_TRY(prune_tags(*storage, repo, options, report.t0, report, gone));
    if (policy.untagged_older_than) {
      REGD_TRY(prune_untagged(storage, repo, options, report.t0, gone, report));
    }
    ++report.repositories;
    if (start->lease) {
      REGD_TRY(start->lease->renew());
    }
  }
  return report;
}

}  // namespace regd
