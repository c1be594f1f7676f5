#include "sorted_tags.h"

#include <algorithm>
#include <charconv>

#include "layout.h"
#include "regd/reference.h"
#include "try.h"

namespace regd {

namespace {

constexpr std::string_view k_magic = "regd-sorted-tags 1 ";
// A tag is at most 128 characters: a name and its newline always fit in this many bytes.
constexpr size_t k_max_line = 129;
constexpr size_t k_read_chunk = 64 * 1024;

int64_t to_ns(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

std::string header(Clock::time_point dir_mtime) {
  return std::string(k_magic) + std::to_string(to_ns(dir_mtime)) + "\n";
}

Result<size_t> read_some(ReadFile& file, uint64_t offset, std::string& buf, size_t size) {
  buf.resize(size);
  auto got = read_full_at(file, offset, buf);
  buf.resize(got ? *got : 0);
  return got;
}

// Writes `names` as the sorted list of `repo` built from a directory at `dir_mtime`.
Status write_list(Storage& storage, std::string_view repo, Clock::time_point dir_mtime,
                  const std::vector<std::string>& names) {
  auto file = storage.create(layout::sorted_tags(repo));
  if (!file) {
    return std::unexpected(file.error());
  }
  std::string buf = header(dir_mtime);
  for (const std::string& name : names) {
    buf += name;
    buf += '\n';
    if (buf.size() >= k_read_chunk) {
      REGD_TRY((*file)->write(std::string_view(buf)));
      buf.clear();
    }
  }
  REGD_TRY((*file)->write(std::string_view(buf)));
  return (*file)->commit();
}

}  // namespace

Result<SortedTags::State> SortedTags::open(Storage& storage, std::string_view repo, Clock::time_point dir_mtime,
                                           std::unique_ptr<SortedTags>& out) {
  auto file = storage.open_read(layout::sorted_tags(repo));
  if (!file) {
    return file.error().code == Errc::not_found ? Result<State>(State::missing) : std::unexpected(file.error());
  }
  std::string buf;
  auto got = read_some(**file, 0, buf, k_magic.size() + 32);
  if (!got) {
    return std::unexpected(got.error());
  }
  size_t end = buf.find('\n');
  std::string expected = header(dir_mtime);
  if (end == std::string::npos || buf.compare(0, end + 1, expected) != 0) {
    return State::stale;
  }
  // Every name ends with a newline: a file cut short is no list (rename makes that unlikely).
  uint64_t size = (*file)->size();
  if (size > expected.size()) {
    auto tail = read_some(**file, size - 1, buf, 1);
    if (!tail) {
      return std::unexpected(tail.error());
    }
    if (buf != "\n") {
      return State::stale;
    }
  }
  out.reset(new SortedTags(std::move(*file), expected.size()));
  return State::current;
}

// The first line that starts at or after `offset` (itself when it is the first name's), with
// its offset: one read of two lines' worth. The file's size and "" when none does.
Result<std::pair<uint64_t, std::string>> SortedTags::line_from(uint64_t offset) {
  uint64_t base = offset == m_start ? offset : offset - 1;
  std::string buf;
  REGD_TRY(read_some(*m_file, base, buf, 2 * k_max_line));
  size_t begin = 0;
  if (base != offset) {
    begin = buf.find('\n');
    if (begin++ == std::string::npos) {
      return fail(Errc::corrupt, "sorted tag list: a line longer than a tag");
    }
  }
  if (base + begin >= m_file->size()) {
    return std::pair<uint64_t, std::string>(m_file->size(), "");
  }
  size_t end = buf.find('\n', begin);
  if (end == std::string::npos) {
    return fail(Errc::corrupt, "sorted tag list: a line longer than a tag");
  }
  return std::pair<uint64_t, std::string>(base + begin, buf.substr(begin, end - begin));
}

Status SortedTags::for_each_after(std::string_view last, const std::function<Result<bool>(std::string)>& visit) {
  // Invariant: every name before `lo` is <= last, every name from `hi` on is > last; both are
  // line starts (or the end of the file).
  uint64_t lo = m_start;
  uint64_t hi = m_file->size();
  while (lo < hi) {
    auto line = line_from(lo + (hi - lo) / 2);
    if (line && line->first >= hi) {  // no line starts in the upper half: look at the one at lo
      line = line_from(lo);
    }
    if (!line) {
      return std::unexpected(line.error());
    }
    if (line->second > last) {
      hi = line->first;
    } else {
      lo = line->first + line->second.size() + 1;
    }
  }
  std::string buf;
  std::string partial;
  for (uint64_t offset = lo; offset < m_file->size();) {
    auto got = read_some(*m_file, offset, buf, k_read_chunk);
    if (!got) {
      return std::unexpected(got.error());
    }
    if (*got == 0) {
      break;
    }
    offset += *got;
    size_t from = 0;
    for (size_t end = buf.find('\n'); end != std::string::npos; end = buf.find('\n', from)) {
      partial.append(buf, from, end - from);
      from = end + 1;
      auto more = visit(std::exchange(partial, {}));
      if (!more) {
        return std::unexpected(more.error());
      }
      if (!*more) {
        return {};
      }
    }
    partial.append(buf, from);
  }
  return {};
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
  std::optional<Clock::time_point> clock;
  if (dir && min_tags > 0) {
    if (auto now = storage.now(layout::storage_clock())) {
      clock = *now;
    }
  }
  auto names = read_tag_names(storage, repo);
  if (!names) {
    return names;
  }
  if (min_tags == 0 || names->size() < min_tags) {
    if (had_list) {
      (void)storage.remove_all(layout::sorted_tags(repo));
    }
  } else if (clock && *clock - dir->mtime >= k_sorted_tags_settle) {
    (void)write_list(storage, repo, dir->mtime, *names);
  }
  return names;
}

}  // namespace regd
