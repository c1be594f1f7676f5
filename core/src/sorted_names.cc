#include "sorted_names.h"

#include "layout.h"
#include "try.h"

namespace regd {

namespace {

constexpr size_t k_read_chunk = 64 * 1024;

int64_t to_ns(Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

std::string header(const SortedNamesFormat& format, Clock::time_point dir_mtime) {
  return std::string(format.magic) + std::to_string(to_ns(dir_mtime)) + "\n";
}

Result<size_t> read_some(ReadFile& file, uint64_t offset, std::string& buf, size_t size) {
  buf.resize(size);
  auto got = read_full_at(file, offset, buf);
  buf.resize(got ? *got : 0);
  return got;
}

// Writes `names` (sorted) as the list at `path` of a directory whose mtime was `dir_mtime`.
Status write_sorted_names(Storage& storage, const std::string& path, const SortedNamesFormat& format,
                          Clock::time_point dir_mtime, const std::vector<std::string>& names) {
  auto file = storage.create(path);
  if (!file) {
    return std::unexpected(file.error());
  }
  std::string buf = header(format, dir_mtime);
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

void persist_sorted_names(Storage& storage, const std::string& path, const SortedNamesFormat& format,
                          const std::vector<std::string>& names, size_t min_names, bool had_list,
                          std::optional<Clock::time_point> settled_mtime) {
  if (min_names == 0 || names.size() < min_names) {
    if (had_list) {
      (void)storage.remove_all(path);
    }
  } else if (settled_mtime) {
    (void)write_sorted_names(storage, path, format, *settled_mtime, names);
  }
}

bool settled(Storage& storage, Clock::time_point dir_mtime) {
  // A local clock behind the storage's only delays the list; the storage clock decides.
  if (Clock::now() - dir_mtime < k_sorted_names_settle) {
    return false;
  }
  auto now = storage.now(layout::storage_clock());
  return now && *now - dir_mtime >= k_sorted_names_settle;
}

Result<SortedNames::State> SortedNames::open(Storage& storage, const std::string& path, const SortedNamesFormat& format,
                                             const std::function<Result<Clock::time_point>()>& dir_mtime,
                                             std::unique_ptr<SortedNames>& out) {
  auto file = storage.open_read(path);
  if (!file) {
    return file.error().code == Errc::not_found ? Result<State>(State::missing) : std::unexpected(file.error());
  }
  auto mtime = dir_mtime();
  if (!mtime) {
    return std::unexpected(mtime.error());
  }
  std::string buf;
  auto got = read_some(**file, 0, buf, format.magic.size() + 32);
  if (!got) {
    return std::unexpected(got.error());
  }
  size_t end = buf.find('\n');
  std::string expected = header(format, *mtime);
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
  out.reset(new SortedNames(std::move(*file), expected.size(), format.max_line));
  return State::current;
}

// The first line that starts at or after `offset` (itself when it is the first name's), with
// its offset: one read of two lines' worth. The file's size and "" when none does.
Result<std::pair<uint64_t, std::string>> SortedNames::line_from(uint64_t offset) {
  uint64_t base = offset == m_start ? offset : offset - 1;
  std::string buf;
  REGD_TRY(read_some(*m_file, base, buf, 2 * m_max_line));
  size_t begin = 0;
  if (base != offset) {
    begin = buf.find('\n');
    if (begin++ == std::string::npos) {
      return fail(Errc::corrupt, "sorted name list: a line longer than a name");
    }
  }
  if (base + begin >= m_file->size()) {
    return std::pair<uint64_t, std::string>(m_file->size(), "");
  }
  size_t end = buf.find('\n', begin);
  if (end == std::string::npos) {
    return fail(Errc::corrupt, "sorted name list: a line longer than a name");
  }
  return std::pair<uint64_t, std::string>(base + begin, buf.substr(begin, end - begin));
}

Status SortedNames::for_each_after(std::string_view key, bool inclusive,
                                   const std::function<Result<bool>(std::string)>& visit) {
  // Invariant: every name before `lo` is before the wanted ones, every name from `hi` on is
  // wanted; both are line starts (or the end of the file).
  auto wanted = [&](const std::string& name) { return inclusive ? name >= key : name > key; };
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
    if (wanted(line->second)) {
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

Result<bool> SortedNames::contains(std::string_view name) {
  bool found = false;
  REGD_TRY(for_each_after(name, true, [&](std::string first) -> Result<bool> {
    found = first == name;
    return false;
  }));
  return found;
}

}  // namespace regd
