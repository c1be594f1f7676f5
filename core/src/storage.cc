#include "regd/storage.h"

#include "layout.h"
#include "regd/storage_stats.h"
#include "try.h"

namespace regd {

std::optional<Clock::time_point> clock_from_seconds(int64_t seconds) {
  constexpr int64_t k_year_1900 = -2208988800;
  constexpr int64_t k_year_2201 = 7289654400;
  if (seconds < k_year_1900 || seconds >= k_year_2201) {
    return std::nullopt;
  }
  return Clock::time_point(std::chrono::seconds(seconds));
}

StorageStats& storage_stats() {
  static StorageStats stats;
  return stats;
}

void count_storage_error(Errc code) {
  auto& stats = storage_stats();
  switch (code) {
    case Errc::io_error:
      stats.io_errors.fetch_add(1, std::memory_order_relaxed);
      break;
    case Errc::no_space:
      stats.no_space_errors.fetch_add(1, std::memory_order_relaxed);
      break;
    case Errc::denied:
      stats.denied_errors.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      break;
  }
}

Result<size_t> read_full_at(ReadFile& file, uint64_t offset, std::span<char> buf) {
  size_t got = 0;
  while (got < buf.size()) {
    auto n = file.read_at(offset + got, buf.subspan(got));
    if (!n) {
      return std::unexpected(n.error());
    }
    if (*n == 0) {
      break;
    }
    got += *n;
  }
  return got;
}

Status check_storage_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string::npos) {
    return fail(Errc::invalid_argument, "storage path \"" + path + "\": must be relative and non-empty");
  }
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    auto component =
        std::string_view(path).substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (component.empty() || component == "." || component == "..") {
      return fail(Errc::invalid_argument, "storage path \"" + path + "\": empty, \".\" or \"..\" component");
    }
    if (slash == std::string::npos) {
      return {};
    }
    start = slash + 1;
  }
}

Status Storage::write_file(const std::string& path, std::string_view data) {
  auto file = create(path);
  if (!file) {
    return std::unexpected(file.error());
  }
  if (auto written = (*file)->write(data); !written) {
    return written;
  }
  return (*file)->commit();
}

Status Storage::make_directory(const std::string& path) {
  std::string probe = path + "/.tmp-init-" + layout::random_hex(8);
  REGD_TRY(write_file(probe, ""));
  auto removed = remove(probe);
  return removed || removed.error().code == Errc::not_found ? Status{} : removed;
}

Status probe_storage(Storage& storage, StorageAccess access) {
  if (access == StorageAccess::read) {
    // An empty root (nothing pushed yet) is readable too.
    auto listed = storage.list(std::string(layout::k_prefix), [](const DirEntry&) -> Status { return {}; });
    if (!listed && listed.error().code != Errc::not_found) {
      return fail(listed.error().code, "storage not readable: " + listed.error().message);
    }
    return {};
  }
  // A name no other probe uses: instances sharing one root never collide.
  std::string path = "_regd/readyz/" + layout::new_upload_id();
  if (auto written = storage.write_file(path, "ok"); !written) {
    return fail(written.error().code, "storage not writable: " + written.error().message);
  }
  if (auto removed = storage.remove(path); !removed && removed.error().code != Errc::not_found) {
    return fail(removed.error().code, "storage not writable: " + removed.error().message);
  }
  return {};
}

Status require_registry_tree(Storage& storage, bool create) {
  std::string tree(layout::k_prefix);
  auto info = storage.stat(tree);
  if (info && info->type == EntryType::directory) {
    return {};
  }
  if (info) {
    return fail(Errc::no_registry, tree + " is not a directory");
  }
  if (info.error().code != Errc::not_found) {
    return std::unexpected(info.error());
  }
  if (!create) {
    return fail(Errc::no_registry, "no registry tree (" + tree + ")");
  }
  if (auto made = storage.make_directory(tree); !made) {
    return fail(made.error().code, "cannot create " + tree + ": " + made.error().message);
  }
  return {};
}

}  // namespace regd
