// Deleting a whole repository, as the single deletes do it, so that readers and GC see the same
// intermediate states they already handle: tags vanish first (current link first), then
// revision links, then what only they made useful.
#include "layout.h"
#include "regd/reference.h"
#include "registry_impl.h"
#include "sorted_tags.h"

namespace regd {

namespace {

// Removes `dir` and then its parents up to (not including) `stop` while they are empty; a
// directory still holding anything (a nested repository, an upload) stays.
void remove_empty_dirs(Storage& storage, std::string dir, const std::string& stop) {
  while (dir.size() > stop.size() && dir.starts_with(stop)) {
    if (!storage.remove(dir)) {
      return;
    }
    dir = dir.substr(0, dir.rfind('/'));
  }
}

}  // namespace

Result<RepositoryRemoval> RegistryImpl::delete_repository(std::string_view repo) {
  REGD_TRY(validate_repository(repo));
  // A directory that only holds nested repositories (or uploads) is no repository to delete.
  auto manifests_dir = exists(layout::manifests_root(repo));
  auto layers_dir = exists(layout::layers_root(repo));
  if (!manifests_dir || !layers_dir) {
    return std::unexpected(!manifests_dir ? manifests_dir.error() : layers_dir.error());
  }
  if (!*manifests_dir && !*layers_dir) {
    return fail(Errc::name_unknown, "repository " + std::string(repo) + " not found");
  }
  auto tags = read_tag_names(*m_storage, repo);
  if (!tags) {
    return std::unexpected(tags.error());
  }
  for (const std::string& tag : *tags) {
    REGD_TRY(check_tag_change(repo, tag, std::nullopt));
  }
  RepositoryRemoval removed;
  for (const std::string& tag : *tags) {
    REGD_TRY(remove_tag(repo, tag));
    ++removed.tags;
  }
  std::vector<Digest> manifests;
  REGD_TRY(for_each_digest_dir(*m_storage, layout::revisions_root(repo), [&](const Digest& digest) -> Status {
    manifests.push_back(digest);
    return {};
  }));
  for (const Digest& digest : manifests) {
    auto linked = exists(layout::revision_link(repo, digest));
    if (!linked) {
      return std::unexpected(linked.error());
    }
    REGD_TRY(m_storage->remove_all(layout::revision_dir(repo, digest)));
    removed.manifests += *linked ? 1 : 0;
  }
  for (const std::string& dir :
       {layout::referrers_dir(repo), layout::layers_root(repo), layout::manifests_root(repo)}) {
    REGD_TRY(m_storage->remove_all(dir));
  }
  remove_empty_dirs(*m_storage, layout::repo_dir(repo), layout::repositories_root());
  return removed;
}

}  // namespace regd
