#include "regd/storage.h"

#include "layout.h"
#include "regd/storage_stats.h"

namespace regd {

StorageStats& storage_stats() {
  static StorageStats stats;
  return stats;
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
  // A temp name: should the remove never happen, readers skip it and GC removes it.
  std::string probe = tree + "/.tmp-init-" + layout::random_hex(8);
  if (auto written = storage.write_file(probe, ""); !written) {
    return fail(written.error().code, "cannot create " + tree + ": " + written.error().message);
  }
  auto removed = storage.remove(probe);
  return removed || removed.error().code == Errc::not_found ? Status{} : removed;
}

}  // namespace regd
