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
                                                     bool had_list, std::optional<Clock::time_point> settled_mtime) {
  auto names = read_tag_names(storage, repo);
  if (names) {
    persist_sorted_names(storage, layout::sorted_tags(repo), k_format, *names, min_tags, had_list, settled_mtime);
  }
  return names;
}

}  // namespace regd
