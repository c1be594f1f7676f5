#include <algorithm>
#include <limits>

#include "layout.h"
#include "regd/reference.h"
#include "registry_impl.h"
#include "sorted_names.h"
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
  std::string_view last() const { return m_last; }
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

// A name component is at most 255 characters: a name and its newline always fit in a line.
constexpr SortedNamesFormat k_catalog_format{"regd-sorted-repositories 1 ", 256};

// Offers every repository under a directory to the collector, in the exact lexical order of full
// names ("a-b" < "a/b" < "a_b") however the directories list: subtrees are pruned by their key
// range, not by visiting order. A directory with at least `list_min` repositories below it is read
// from its sorted list (sorted_names.h) while that is current, so a page costs a binary search
// and the page's subtrees there instead of a read of the whole directory.
class RepositoryWalk {
 public:
  RepositoryWalk(Storage& storage, PageCollector& page, size_t list_min)
      : m_storage(storage), m_page(page), m_list_min(list_min) {}

  // Offers the repositories under `dir`, whose name is `prefix` ("" for the root).
  Status walk(const std::string& dir, const std::string& prefix, int depth) {
    if (m_list_min > 0) {
      std::unique_ptr<SortedNames> list;
      auto state = open_list(dir, prefix, list);
      if (!state) {
        return state.error().code == Errc::not_found ? Status{} : Status(std::unexpected(state.error()));
      }
      if (*state == SortedNames::State::current) {
        return walk_list(*list, dir, prefix, depth);
      }
      return walk_dir(dir, prefix, depth, *state == SortedNames::State::stale);
    }
    return walk_dir(dir, prefix, depth, false);
  }

 private:
  Result<SortedNames::State> open_list(const std::string& dir, const std::string& prefix,
                                       std::unique_ptr<SortedNames>& list) {
    auto dir_mtime = [&]() -> Result<Clock::time_point> {
      auto info = m_storage.stat(dir);
      if (!info) {
        return std::unexpected(info.error());
      }
      return info->mtime;
    };
    return SortedNames::open(m_storage, layout::catalog_list(prefix), k_catalog_format, dir_mtime, list);
  }

  Status offer_self(const std::string& prefix) {
    // Checked only for names that would make the page: an emptied repository is not listed.
    auto held = holds_manifest(m_storage, prefix);
    if (!held) {
      return std::unexpected(held.error());
    }
    if (*held) {
      m_page.offer(prefix);
    }
    return {};
  }

  bool may_add(const std::string& name) const {
    // Every name in this subtree is `name` or starts with `name/`: all lie in [name, name + "0").
    return m_page.after_last(name + "0") && !m_page.closed_from(name);
  }

  // The subdirectories are descended in the order of their names, at most a page of them per
  // listing of `dir`: once the page is full and closed from a subdirectory's name, no later one
  // can add to it. A directory with more candidates than that (empty ones, whose subtrees add
  // nothing) is listed again after the last one visited. A directory found large enough gets
  // its sorted list once it has settled.
  Status walk_dir(const std::string& dir, const std::string& prefix, int depth, bool had_list) {
    std::string visited;  // the candidates up to this name are done (empty: none yet)
    bool first = true;
    size_t children_seen = 0;
    for (;;) {
      PageCollector children(m_page.limit(), visited);
      auto listed = m_storage.list(dir, [&](const DirEntry& entry) -> Status {
        if (entry.name.starts_with('_')) {
          if (first && entry.name == "_manifests" && !prefix.empty() && validate_repository(prefix) &&
              m_page.wants(prefix)) {
            return offer_self(prefix);
          }
          return {};
        }
        if (entry.type != EntryType::directory || depth >= k_max_depth || !validate_repository(entry.name)) {
          return {};
        }
        ++children_seen;
        std::string name = prefix.empty() ? entry.name : prefix + "/" + entry.name;
        if (may_add(name)) {
          children.offer(std::move(name));
        }
        return {};
      });
      // A directory removed while we walk is simply gone.
      if (!listed) {
        return is_missing(listed) ? Status{} : listed;
      }
      if (first && m_list_min > 0 && (had_list || children_seen >= m_list_min)) {
        rebuild_list(dir, prefix, had_list);
      }
      first = false;
      Page batch = std::move(children).finish();
      for (const std::string& name : batch.items) {
        if (m_page.closed_from(name)) {
          return {};
        }
        REGD_TRY(walk(dir + "/" + name.substr(name.rfind('/') + 1), name, depth + 1));
      }
      if (!batch.more) {
        return {};
      }
      visited = batch.items.back();
    }
  }

  // Lists `dir` again once it has settled and writes its list, or removes a list of a directory
  // that shrank below list_min. Best effort: a read-only or full storage keeps listing.
  void rebuild_list(const std::string& dir, const std::string& prefix, bool had_list) {
    auto info = m_storage.stat(dir);
    if (!info || !settled(m_storage, info->mtime)) {
      return;
    }
    std::vector<std::string> names;
    auto listed = m_storage.list(dir, [&](const DirEntry& entry) -> Status {
      if (entry.type == EntryType::directory && !entry.name.starts_with('_') && validate_repository(entry.name)) {
        names.push_back(entry.name);
      }
      return {};
    });
    if (listed) {
      std::sort(names.begin(), names.end());
      persist_sorted_names(m_storage, layout::catalog_list(prefix), k_catalog_format, names, m_list_min, had_list,
                           info->mtime);
    }
  }

  // From the list: the children that can hold names after `last`, in order. With `rest` the part
  // of `last` inside this directory and `head` its first component, those are the children from
  // `head` on, and the ones before it whose subtree still sorts after `rest`: exactly the proper
  // prefixes of `head` followed in it by '-' or '.' (which sort before '/'; "a/x" > "a-b").
  Status walk_list(SortedNames& list, const std::string& dir, const std::string& prefix, int depth) {
    if (!prefix.empty() && validate_repository(prefix) && m_page.wants(prefix)) {
      REGD_TRY(offer_self(prefix));
    }
    if (depth >= k_max_depth) {
      return {};
    }
    std::string_view last = m_page.last();
    std::string_view rest;
    if (prefix.empty()) {
      rest = last;
    } else if (last.starts_with(prefix + "/")) {
      rest = last.substr(prefix.size() + 1);
    } else if (last > prefix + "/") {
      return {};  // the whole directory sorts before `last`
    }
    std::string_view head = rest.substr(0, rest.find('/'));
    bool done = false;
    auto visit = [&](std::string child) -> Result<bool> {
      std::string name = prefix.empty() ? child : prefix + "/" + child;
      if (m_page.closed_from(name)) {
        done = true;
        return false;
      }
      if (m_page.after_last(name + "0")) {
        REGD_TRY(walk(dir + "/" + child, name, depth + 1));
      }
      return true;
    };
    for (size_t k = 1; k < head.size() && !done; ++k) {
      if (head[k] != '-' && head[k] != '.') {
        continue;
      }
      auto present = list.contains(head.substr(0, k));
      if (!present) {
        return std::unexpected(present.error());
      }
      if (*present) {
        auto more = visit(std::string(head.substr(0, k)));
        if (!more) {
          return std::unexpected(more.error());
        }
      }
    }
    if (done) {
      return {};
    }
    return list.for_each_after(head, true, visit);
  }

  Storage& m_storage;
  PageCollector& m_page;
  size_t m_list_min;
};

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
  std::unique_ptr<SortedNames> list;
  auto state = m_options.tag_list_min == 0 ? Result<SortedNames::State>(SortedNames::State::missing)
                                           : open_sorted_tags(*m_storage, repo, dir->mtime, list);
  if (!state) {
    return std::unexpected(state.error());
  }
  if (*state == SortedNames::State::current) {
    REGD_TRY(list->for_each_after(last, false, add));
    return page;
  }
  // The directory's mtime (above), then the storage clock, then the listing that is persisted: a
  // change after the clock reading moves the mtime past the recorded one.
  auto settled_mtime = [&]() -> std::optional<Clock::time_point> {
    return settled(*m_storage, dir->mtime) ? std::optional(dir->mtime) : std::nullopt;
  };
  bool had_list = *state == SortedNames::State::stale;
  auto names = had_list ? rebuild_sorted_tags(*m_storage, repo, m_options.tag_list_min, true, settled_mtime())
                        : read_tag_names(*m_storage, repo);
  // Large enough for a list: rebuilding reads the directory again (after the storage clock, as
  // it must), so only once the directory has settled; while tags keep coming, one read a page.
  if (names && !had_list && m_options.tag_list_min > 0 && names->size() >= m_options.tag_list_min) {
    if (auto mtime = settled_mtime()) {
      names = rebuild_sorted_tags(*m_storage, repo, m_options.tag_list_min, false, mtime);
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
  RepositoryWalk walk(*m_storage, page, m_options.catalog_list_min);
  REGD_TRY(walk.walk(layout::repositories_root(), "", 0));
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
