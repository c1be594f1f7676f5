#include "tar_archive.h"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include "file_io.h"

namespace regd::cli {
namespace {

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using ReadArchive = std::unique_ptr<struct archive, ReadDeleter>;
using WriteArchive = std::unique_ptr<struct archive, WriteDeleter>;

Error archive_error(struct archive* a, Errc code, const std::filesystem::path& file) {
  const char* text = archive_error_string(a);
  return Error{code, file.string() + ": " + (text ? text : "archive error")};
}

bool unsafe_name(std::string_view name) {
  if (name.empty() || name.front() == '/') {
    return true;
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) {
      end = name.size();
    }
    if (name.substr(start, end - start) == "..") {
      return true;
    }
    start = end + 1;
  }
  return false;
}

Status copy_entry_data(struct archive* in, struct archive* out, const std::filesystem::path& file) {
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  for (;;) {
    int r = archive_read_data_block(in, &block, &size, &offset);
    if (r == ARCHIVE_EOF) {
      return {};
    }
    if (r != ARCHIVE_OK) {
      return std::unexpected(archive_error(in, Errc::corrupt, file));
    }
    if (archive_write_data_block(out, block, size, offset) != ARCHIVE_OK) {
      return std::unexpected(archive_error(out, Errc::io_error, file));
    }
  }
}

// Paths under `dir`, sorted, relative, directories before their contents.
Result<std::vector<std::filesystem::path>> tree_of(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != end(it); it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.starts_with(".tmp-")) {
      continue;
    }
    paths.push_back(it->path().lexically_relative(dir));
  }
  if (ec) {
    return std::unexpected(errno_error(ec.value(), dir.string()));
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

Status add_tree_entry(struct archive* out, const std::filesystem::path& dir, const std::filesystem::path& rel) {
  auto full = dir / rel;
  std::error_code ec;
  bool is_dir = std::filesystem::is_directory(full, ec);
  std::unique_ptr<struct archive_entry, EntryDeleter> entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), rel.c_str());
  archive_entry_set_mtime(entry.get(), 0, 0);
  archive_entry_set_uid(entry.get(), 0);
  archive_entry_set_gid(entry.get(), 0);
  if (is_dir) {
    archive_entry_set_filetype(entry.get(), AE_IFDIR);
    archive_entry_set_perm(entry.get(), 0755);
    return archive_write_header(out, entry.get()) == ARCHIVE_OK
               ? Status{}
               : std::unexpected(archive_error(out, Errc::io_error, full));
  }
  auto reader = FileReader::open(full);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(reader->size()));
  if (archive_write_header(out, entry.get()) != ARCHIVE_OK) {
    return std::unexpected(archive_error(out, Errc::io_error, full));
  }
  return reader->drain([&](std::span<const char> chunk) -> Status {
    if (archive_write_data(out, chunk.data(), chunk.size()) < 0) {
      return std::unexpected(archive_error(out, Errc::io_error, full));
    }
    return {};
  });
}

}  // namespace

Status extract_tar(const std::filesystem::path& file, const std::filesystem::path& dir, bool allow_symlinks) {
  if (::access(file.c_str(), R_OK) != 0) {
    return std::unexpected(errno_error(errno, file.string()));
  }
  ReadArchive in(archive_read_new());
  archive_read_support_format_tar(in.get());
  archive_read_support_format_gnutar(in.get());
  archive_read_support_filter_all(in.get());
  if (archive_read_open_filename(in.get(), file.c_str(), k_copy_buffer) != ARCHIVE_OK) {
    return std::unexpected(archive_error(in.get(), Errc::corrupt, file));
  }
  WriteArchive out(archive_write_disk_new());
  // Names are checked by unsafe_name() before being prefixed with the (absolute) target dir.
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  struct archive_entry* entry = nullptr;
  for (;;) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK) {
      return std::unexpected(archive_error(in.get(), Errc::corrupt, file));
    }
    std::string name = archive_entry_pathname(entry);
    auto type = archive_entry_filetype(entry);
    bool wanted = type == AE_IFREG || type == AE_IFDIR || (allow_symlinks && type == AE_IFLNK);
    if (!wanted || archive_entry_hardlink(entry) != nullptr) {
      continue;
    }
    if (unsafe_name(name)) {
      return fail(Errc::corrupt, file.string() + ": unsafe entry name \"" + name + "\"");
    }
    archive_entry_set_pathname(entry, (dir / name).c_str());
    archive_entry_set_perm(entry, type == AE_IFDIR ? 0755 : 0644);
    if (archive_write_header(out.get(), entry) != ARCHIVE_OK) {
      return std::unexpected(archive_error(out.get(), Errc::io_error, file));
    }
    if (type == AE_IFREG) {
      if (auto ok = copy_entry_data(in.get(), out.get(), file); !ok) {
        return ok;
      }
    }
    if (archive_write_finish_entry(out.get()) != ARCHIVE_OK) {
      return std::unexpected(archive_error(out.get(), Errc::io_error, file));
    }
  }
  return {};
}

Status write_tar(const std::filesystem::path& dir, const std::filesystem::path& file) {
  auto paths = tree_of(dir);
  if (!paths) {
    return std::unexpected(paths.error());
  }
  std::random_device rd;
  auto parent = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
  auto temp = parent / (".tmp-" + file.filename().string() + "-" + std::to_string(rd()));
  WriteArchive out(archive_write_new());
  archive_write_set_format_pax_restricted(out.get());
  if (archive_write_open_filename(out.get(), temp.c_str()) != ARCHIVE_OK) {
    return std::unexpected(archive_error(out.get(), Errc::io_error, temp));
  }
  for (const auto& rel : *paths) {
    if (auto ok = add_tree_entry(out.get(), dir, rel); !ok) {
      archive_write_close(out.get());
      ::unlink(temp.c_str());
      return ok;
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    ::unlink(temp.c_str());
    return std::unexpected(archive_error(out.get(), Errc::io_error, file));
  }
  std::error_code ec;
  std::filesystem::rename(temp, file, ec);
  if (ec) {
    ::unlink(temp.c_str());
    return std::unexpected(errno_error(ec.value(), file.string()));
  }
  return {};
}

}  // namespace regd::cli
