// The persisted sorted list of a repository's tag names (a SortedNames list, sorted_names.h),
// `_manifests/tags.regd-index` beside `_manifests/tags/`, so that a tags/list page of a large
// repository costs a page, not a read of the whole tag directory. registry:2 ignores the file (it
// lists only `tags/`).
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "sorted_names.h"

namespace regd {

// Opens the tag list of `repo`, checked against the tags directory's mtime (SortedNames::open).
[[nodiscard]] Result<SortedNames::State> open_sorted_tags(Storage& storage, std::string_view repo,
                                                          Clock::time_point dir_mtime,
                                                          std::unique_ptr<SortedNames>& out);

// The valid tag directory names of `repo`, sorted (a missing directory has none).
// Errors: io_error.
[[nodiscard]] Result<std::vector<std::string>> read_tag_names(Storage& storage, std::string_view repo);

// Reads the tag names of `repo` afresh and persists them as its sorted list
// (persist_sorted_names: `settled_mtime` is the tags directory's mtime, read and found settled
// before this listing). Returns the sorted names. Errors: io_error.
[[nodiscard]] Result<std::vector<std::string>> rebuild_sorted_tags(Storage& storage, std::string_view repo,
                                                                   size_t min_tags, bool had_list,
                                                                   std::optional<Clock::time_point> settled_mtime);

}  // namespace regd
