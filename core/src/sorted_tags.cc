#include "sorted_tags.h"

#include <algorithm>
#include <optional>

#include "layout.h"
#include "regd/reference.h"

namespace regd {

namespace {

// A tag is at most 128 characters: a name and its newline always fit in a line.
constexpr SortedNamesFormat k_format{"regd-sorted-tags 1 ", 129};

}  // namespace

Result<SortedNames::State> open_sorted_tags(Storage& storage, std::string_view repo, Clock::time_point dir_mtime,
                                            std::unique_ptr<SortedNames>& out) {
  return SortedNames::open(
      storage, layout::sorted_tags(repo), k_format, [&] { return Result<Clock::time_point>(dir_mtime); }, out);
}

Result<std::vector<std::string>> read_tag_names(Storage& storage, std::string_view repo) {
  std::vector<std::string> names;
  auto listed = storage.list(layout::tags_dir(repo), [&](const DirEntry& entry) -> Status {
    if (entry.type == EntryType::directory && validate_tag(entry.name)) {
      names.push_back(entry.name);
    }
    return {};
  });
  if (!listed && !is_missing(listed)) {
    return std::unexpected(listed.error());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<std::string>> rebuild_sorted_tags(Storage& storage, std::string_view repo, size_t min_tags,
                                                     bool had_list) {
  // The directory's mtime, then the storage clock, then the listing: a change after the clock
  // reading moves the mtime past the recorded one once the directory has settled.
  auto dir = storage.stat(layout::tags_dir(repo));
  if (!dir && dir.error().code != Errc::not_found) {
    return std::unexpected(dir.error());
  }
  bool settled_dir = dir && min_tags > 0 && settled(storage, dir->mtime);
  auto names = read_tag_names(storage, repo);
  if (!names) {
    return names;
  }
  if (min_tags == 0 || names->size() < min_tags) {
    if (had_list) {
      (void)storage.remove_all(layout::sorted_tags(repo));
    }
  } else if (settled_dir) {
    (void)write_sorted_names(storage, layout::sorted_tags(repo), k_format, dir->mtime, *names);
  }
  return names;
}

}  // namespace regd
