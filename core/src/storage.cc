#include "regd/storage.h"

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

}  // namespace regd
