// The persisted sorted list of a repository's tag names, `_manifests/tags.regd-index` beside
// `_manifests/tags/`, so that a tags/list page of a large repository costs a page, not a read of
// the whole tag directory (which lists in hash order on ext4, so no page can skip to `last`).
//
// The tree stays the truth: the file records the mtime of the tags directory it was built from
// and is used only while that mtime is unchanged, so any tag created or removed since (by regd,
// regctl or registry:2) makes it stale, and a stale file only costs one rebuild. It is written
// only once the directory has been unchanged for k_sorted_tags_settle by the storage clock: a
// change made while the directory was read would otherwise keep the same mtime on a filesystem
// with coarse timestamps and go unseen. registry:2 ignores the file (it lists only `tags/`).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "regd/storage.h"

namespace regd {

// How long the tags directory must have been unchanged before its listing is persisted.
inline constexpr std::chrono::seconds k_sorted_tags_settle{2};

class SortedTags {
 public:
  enum class State { current, stale, missing };

  // Opens the file of `repo` and checks it against the tags directory's mtime: current, stale
  // (also when it is unreadable or not such a file) or missing. Errors: io_error.
  [[nodiscard]] static Result<State> open(Storage& storage, std::string_view repo, Clock::time_point dir_mtime,
                                          std::unique_ptr<SortedTags>& out);

  // Calls `visit` with each name after `last`, in order, until it returns false. Finding the
  // first one is a binary search of the file; memory is bounded by a read buffer.
  // Errors: corrupt, io_error, and what `visit` returns.
  [[nodiscard]] Status for_each_after(std::string_view last, const std::function<Result<bool>(std::string)>& visit);

 private:
  SortedTags(std::unique_ptr<ReadFile> file, uint64_t start) : m_file(std::move(file)), m_start(start) {}
  Result<std::pair<uint64_t, std::string>> line_from(uint64_t offset);

  std::unique_ptr<ReadFile> m_file;
  uint64_t m_start;  // the first name's offset, after the header line
};

// The valid tag directory names of `repo`, sorted (a missing directory has none).
// Errors: io_error.
[[nodiscard]] Result<std::vector<std::string>> read_tag_names(Storage& storage, std::string_view repo);

// Reads the tag names of `repo` afresh and, when there are at least `min_tags` of them and the
// directory has settled, writes them as its sorted list; with fewer, removes a list left by
// `had_list`. Persisting is best effort (a read-only or full storage keeps answering from the
// directory). Returns the sorted names. Errors: io_error.
[[nodiscard]] Result<std::vector<std::string>> rebuild_sorted_tags(Storage& storage, std::string_view repo,
                                                                   size_t min_tags, bool had_list);

}  // namespace regd
