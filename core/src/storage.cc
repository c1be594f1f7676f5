#include "regd/storage.h"

#include "layout.h"

namespace regd {

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

}  // namespace regd
