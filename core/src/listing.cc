#include <algorithm>
#include <limits>

#include "layout.h"
#include "regd/reference.h"
#include "registry_impl.h"
#include "sorted_tags.h"

namespace regd {

namespace {

// A name is at most 255 characters, so a nested repository is at most 128 levels deep.
constexpr int k_max_depth = 128;

// Keeps the n+1 smallest names greater than `last` in a bounded max-heap: memory is bounded by
// the page size whatever the number of names offered, in any order.
class PageCollector {
 public:
  PageCollector(size_t n, std::string_view last)
      : m_n(n), m_limit(n == std::numeric_limits<size_t>::max() ? n : n + 1), m_last(last) {}

  // False when `name` cannot enter the page: it is <= last or larger than everything kept.
  bool wants(std::string_view name) const {
    return name > m_last && (m_heap.size() < m_limit || name < m_heap.front());
  }

  void offer(std::string name) {
    if (!wants(name)) {
      return;
    }
    m_heap.push_back(std::move(name));
    std::push_heap(m_heap.begin(), m_heap.end());
    if (m_heap.size() > m_limit) {
      std::pop_heap(m_heap.begin(), m_heap.end());
      m_heap.pop_back();
    }
  }

  bool after_last(std::string_view name) const { return name > m_last; }
  size_t limit() const { return m_limit; }
  // True when the page is full and nothing >= `name` can enter it any more.
  bool closed_from(std::string_view name) const { return m_heap.size() >= m_limit && name >= m_heap.front(); }

  Page finish() && {
    std::sort_heap(m_heap.begin(), m_heap.end());
    Page page;
    page.more = m_heap.size() > m_n;
    if (page.more) {
      m_heap.resize(m_n);
    }
    page.items = std::move(m_heap);
    return page;
  }

 private:
  size_t m_n;
  size_t m_limit;
  std::string m_last;
  std::vector<std::string> m_heap;
};

// Offers every repository under `dir` (whose name is `prefix`) to the collector. Prunes subtrees
// by their key range, not by visiting order, so the result is the exact lexical order of full
// names ("a-b" < "a/b" < "a_b") however the directories list. The subdirectories are descended
// in the order of their names, at most a page of them per listing of `dir`: once the page is full
// and closed from a subdirectory's name, no later one can add to it, so a page costs one listing
// of each directory on the way plus the subtrees of about a page of names, wherever it starts.
// A directory with more candidates than that (empty ones, whose subtrees add nothing) is listed
// again after the last one visited.
Status walk_repositories(Storage& storage, PageCollector& page, const std::string& dir, const std::string& prefix,
                         int depth) {
  std::string visited;  // the candidates up to this name are done (empty: none yet)
  bool first = true;
  for (;;) {
    PageCollector children(page.limit(), visited);
    auto listed = storage.list(dir, [&](const DirEntry& entry) -> Status {
      if (entry.name.starts_with('_')) {
        if (first && entry.name == "_manifests" && !prefix.empty() && validate_repository(prefix) &&
            page.wants(prefix)) {
          // Checked only for names that would make the page: an emptied repository is not listed.
          auto held = holds_manifest(storage, prefix);
          if (!held) {
            return std::unexpected(held.error());
          }
          if (*held) {
            page.offer(prefix);
          }
        }
        return {};
      }
      if (entry.type != EntryType::directory || depth >= k_max_depth || !validate_repository(entry.name)) {
        return {};
      }
      std::string name = prefix.empty() ? entry.name : prefix + "/" + entry.name;
      // Every name in this subtree is `name` or starts with `name/`: all lie in [name, name + "0").
      if (!page.after_last(name + "0") || page.closed_from(name)) {
        return {};
      }
      children.offer(std::move(name));
      return {};
    });
    // A directory removed while we walk is simply gone.
    if (!listed) {
      return is_missing(listed) ? Status{} : listed;
    }
    first = false;
    Page batch = std::move(children).finish();
    for (const std::string& name : batch.items) {
      if (page.closed_from(name)) {
        return {};
      }
      REGD_TRY(walk_repositories(storage, page, dir + "/" + name.substr(name.rfind('/') + 1), name, depth + 1));
    }
    if (!batch.more) {
      return {};
    }
    visited = batch.items.back();
  }
}

}  // namespace

// Pages `names` (sorted, all > last) into `page`: only names whose current link exists are tags.
// A tag directory without it is what an interrupted tag write or delete leaves
// (docs/storage-layout.md, "Crash points"). Returns false once the page is full and `more` known.
Result<bool> RegistryImpl::add_tag_to_page(std::string_view repo, std::string name, size_t n, Page& page) {
  auto present = exists(layout::tag_current_link(repo, name));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*present) {
    return true;
  }
  if (page.items.size() == n) {
    page.more = true;
    return false;
  }
  page.items.push_back(std::move(name));
  return true;
}

// A repository with at least tag_list_min tags answers from its sorted list (sorted_tags.h) while
// that is current: a binary search to `last`, then the page's names, each checked for its current
// link. Otherwise the tag directory is read and sorted, and the list rebuilt where it pays.
// A repository without manifests has no tags to list (name_unknown), as the catalog does not list
// it; one whose tags were all deleted but that still holds manifests lists none.
Result<Page> RegistryImpl::list_tags(std::string_view repo, size_t n, std::string_view last) {
  REGD_TRY(validate_repository(repo));
  REGD_TRY(require_manifests(repo));
  auto dir = m_storage->stat(layout::tags_dir(repo));
  if (!dir) {
    return dir.error().code == Errc::not_found ? Result<Page>(Page{}) : std::unexpected(dir.error());
  }
  Page page;
  auto add = [&](std::string name) { return add_tag_to_page(repo, std::move(name), n, page); };
  std::unique_ptr<SortedTags> list;
  auto state = m_options.tag_list_min == 0 ? Result<SortedTags::State>(SortedTags::State::missing)
                                           : SortedTags::open(*m_storage, repo, dir->mtime, list);
  if (!state) {
    return std::unexpected(state.error());
  }
  if (*state == SortedTags::State::current) {
    REGD_TRY(list->for_each_after(last, add));
    return page;
  }
  bool had_list = *state == SortedTags::State::stale;
  auto names =
      had_list ? rebuild_sorted_tags(*m_storage, repo, m_options.tag_list_min, true) : read_tag_names(*m_storage, repo);
  // Large enough for a list: rebuilding reads the directory again (after the storage clock, as
  // it must), so only once the directory has settled; while tags keep coming, one read a page.
  if (names && !had_list && m_options.tag_list_min > 0 && names->size() >= m_options.tag_list_min) {
    auto now = m_storage->now(layout::storage_clock());
    if (now && *now - dir->mtime >= k_sorted_tags_settle) {
      names = rebuild_sorted_tags(*m_storage, repo, m_options.tag_list_min, false);
    }
  }
  if (!names) {
    return std::unexpected(names.error());
  }
  for (auto it = std::upper_bound(names->begin(), names->end(), last); it != names->end(); ++it) {
    auto more = add(std::move(*it));
    if (!more) {
      return std::unexpected(more.error());
    }
    if (!*more) {
      break;
    }
  }
  return page;
}

Result<Page> RegistryImpl::list_repositories(size_t n, std::string_view last) {
  PageCollector page(n, last);
  REGD_TRY(walk_repositories(*m_storage, page, layout::repositories_root(), "", 0));
  return std::move(page).finish();
}

Result<std::vector<Digest>> RegistryImpl::list_manifests(std::string_view repo) {
  REGD_TRY(validate_repository(repo));
  REGD_TRY(require_repo(repo));
  std::vector<Digest> digests;
  REGD_TRY(for_each_digest_dir(*m_storage, layout::revisions_root(repo), [&](const Digest& digest) -> Status {
    // registry:2 deletes only the link file and leaves its directory behind.
    auto linked = exists(layout::revision_link(repo, digest));
    if (!linked) {
      return std::unexpected(linked.error());
    }
    if (*linked) {
      digests.push_back(digest);
    }
    return {};
  }));
  return digests;
}

}  // namespace regd
