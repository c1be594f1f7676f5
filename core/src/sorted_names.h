// A persisted sorted list of the names in one large directory, so that a page of a listing costs
// a page rather than a read of the whole directory (which lists in hash order on ext4, so no page
// can skip to `last`). The tag lists (sorted_tags.h) and the catalog's lists (catalog_lists.h)
// are two formats of it.
//
// The tree stays the truth: the file's header records the mtime of the directory it was built
// from, and the list is used only while that mtime is unchanged, so any entry created or removed
// since (by regd, regctl or registry:2) makes it stale, and a stale list only costs one rebuild.
// A list is written only once the directory has been unchanged for k_sorted_names_settle by the
// storage clock: a change made while the directory was read would otherwise keep the same mtime
// on a filesystem with coarse timestamps and go unseen. The file must live outside the directory
// it lists (writing it would change that directory's mtime).
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

// How long a directory must have been unchanged before its listing is persisted.
inline constexpr std::chrono::seconds k_sorted_names_settle{2};

struct SortedNamesFormat {
  std::string_view magic;  // the header's words before the mtime, ending with a space
  size_t max_line;         // the longest name plus its newline
};

class SortedNames {
 public:
  enum class State { current, stale, missing };

  // Opens the list at `path` and checks it against the directory's mtime, which `dir_mtime` is
  // asked for only when the list exists: current, stale (also when it is unreadable or not such
  // a file) or missing. Errors: io_error, and what `dir_mtime` returns.
  [[nodiscard]] static Result<State> open(Storage& storage, const std::string& path, const SortedNamesFormat& format,
                                          const std::function<Result<Clock::time_point>()>& dir_mtime,
                                          std::unique_ptr<SortedNames>& out);

  // Calls `visit` with each name after `key` (from `key` on when `inclusive`), in order, until it
  // returns false. Finding the first one is a binary search of the file; memory is bounded by a
  // read buffer. Errors: corrupt, io_error, and what `visit` returns.
  [[nodiscard]] Status for_each_after(std::string_view key, bool inclusive,
                                      const std::function<Result<bool>(std::string)>& visit);

  // Whether `name` is in the list (a binary search). Errors: corrupt, io_error.
  [[nodiscard]] Result<bool> contains(std::string_view name);

 private:
  SortedNames(std::unique_ptr<ReadFile> file, uint64_t start, size_t max_line)
      : m_file(std::move(file)), m_start(start), m_max_line(max_line) {}
  Result<std::pair<uint64_t, std::string>> line_from(uint64_t offset);

  std::unique_ptr<ReadFile> m_file;
  uint64_t m_start;  // the first name's offset, after the header line
  size_t m_max_line;
};

// Persists `names` (sorted, just read from a directory whose mtime was `settled_mtime` and had
// settled before they were read): written as the list at `path` when there are at least
// `min_names`; with fewer, a list left behind (`had_list`) is removed. Without `settled_mtime`
// nothing is written. Best effort: a read-only or full storage keeps answering from the
// directory.
void persist_sorted_names(Storage& storage, const std::string& path, const SortedNamesFormat& format,
                          const std::vector<std::string>& names, size_t min_names, bool had_list,
                          std::optional<Clock::time_point> settled_mtime);

// Whether a directory last changed at `dir_mtime` has settled: the storage clock (a write of
// layout::storage_clock()) is at least k_sorted_names_settle past it. The local clock is asked
// first, so a directory that keeps changing costs no clock write per request. False when the
// clock cannot be read (a read-only storage keeps answering from the directory).
[[nodiscard]] bool settled(Storage& storage, Clock::time_point dir_mtime);

}  // namespace regd
