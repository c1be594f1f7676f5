#include <cerrno>
#include <memory>
#include <string>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix_files.h"
#include "posix_util.h"
#include "regd/storage.h"

namespace regd {

namespace {

using posix::errno_error;
using posix::FdGuard;
using posix::PosixAppendFile;
using posix::PosixLock;
using posix::PosixReadFile;
using posix::PosixWriteFile;

class PosixStorage final : public Storage {
 public:
  PosixStorage(std::string root, bool retry_missing) : m_root(std::move(root)), m_retry_missing(retry_missing) {}

  Result<std::string> read(const std::string& path, size_t max_size) override;
  Result<std::unique_ptr<ReadFile>> open_read(const std::string& path) override;
  Result<std::unique_ptr<WriteFile>> create(const std::string& path) override;
  Result<std::unique_ptr<AppendFile>> open_append(const std::string& path, bool create) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status list(const std::string& dir, const std::function<Status(const DirEntry&)>& visit) override;
  Status list_temps(const std::string& dir,
                    const std::function<Status(const DirEntry&, const FileInfo&)>& visit) override;
  Status remove(const std::string& path) override;
  Status remove_all(const std::string& path) override;
  Result<FileInfo> stat(const std::string& path) override;
  Status touch(const std::string& path) override;
  Result<std::unique_ptr<Lock>> lock(const std::string& path, bool wait) override;
  Result<Clock::time_point> now(const std::string& path) override;

 private:
  Result<std::string> full_path(const std::string& path) const {
    if (auto valid = posix::check_path(path); !valid) {
      return std::unexpected(valid.error());
    }
    std::string full;
    full.reserve(m_root.size() + 1 + path.size());  // one allocation: every request builds a few
    full.append(m_root).append("/").append(path);
    return full;
  }
  // Messages name storage-relative paths: errors reach logs and, through callers, clients, who
  // must not learn where the storage is mounted.
  std::string shown(const std::string& full) const { return posix::relative_to(full, m_root); }
  Status make_parent(const std::string& full) const { return posix::make_dirs(posix::parent_of(full), m_root); }
  // Read paths re-check a missing file once on network filesystems; a local miss is final.
  const std::string* missing(const std::string& full) const { return m_retry_missing ? &full : nullptr; }
  Result<int> open_for_read(const std::string& full) const {
    int fd = posix::with_retries([&] { return ::open(full.c_str(), O_RDONLY | O_CLOEXEC); }, missing(full));
    if (fd < 0) {
      return errno_error(errno, "open", full, m_root);
    }
    return fd;
  }
  Result<int> create_temp(const std::string& full, std::string& temp) const;
  // Lists `dir`, either the entries list() shows or only the ".tmp-" ones.
  Status list_entries(const std::string& dir, bool temps, const std::function<Status(DIR*, const DirEntry&)>& visit);

  std::string m_root;
  bool m_retry_missing;
};

Result<std::string> PosixStorage::read(const std::string& path, size_t max_size) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  auto fd = open_for_read(*full);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  FdGuard guard(*fd);
  // Read to EOF, never past the limit; no fstat first. A read of a regular file returns less
  // than asked only at its end (local and FUSE/NFS alike), so a link or a manifest that fits the
  // buffer takes one read; a file over the limit fails once max_size bytes were read.
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(*fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return errno_error(errno, "read", *full, m_root);
    }
    if (n == 0) {
      return out;
    }
    if (out.size() + static_cast<size_t>(n) > max_size) {
      return fail(Errc::too_large,
                  "read " + shown(*full) + ": over the limit of " + std::to_string(max_size) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf) {
      return out;
    }
  }
}

Result<std::unique_ptr<ReadFile>> PosixStorage::open_read(const std::string& path) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  auto fd = open_for_read(*full);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  FdGuard guard(*fd);
  struct stat st {};
  if (::fstat(*fd, &st) != 0) {
    return errno_error(errno, "stat", *full, m_root);
  }
  if (S_ISDIR(st.st_mode)) {
    return fail(Errc::io_error, "open " + shown(*full) + ": is a directory");
  }
  return std::make_unique<PosixReadFile>(guard.release(), static_cast<uint64_t>(st.st_size), shown(*full));
}

// A concurrent GC may remove an empty parent between mkdir and open: retry a few times.
Result<int> PosixStorage::create_temp(const std::string& full, std::string& temp) const {
  auto dir = posix::parent_of(full);
  int err = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (auto made = make_parent(full); !made) {
      return std::unexpected(made.error());
    }
    temp = dir + "/.tmp-" + posix::random_suffix();
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      return fd;
    }
    err = errno;
    if (err != ENOENT && err != EEXIST && err != EINTR) {
      break;
    }
  }
  return errno_error(err, "create", temp, m_root);
}

Result<std::unique_ptr<WriteFile>> PosixStorage::create(const std::string& path) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  std::string temp;
  auto fd = create_temp(*full, temp);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  return std::make_unique<PosixWriteFile>(*fd, std::move(temp), *full, m_root);
}

Result<std::unique_ptr<AppendFile>> PosixStorage::open_append(const std::string& path, bool create) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  if (create) {
    if (auto made = make_parent(*full); !made) {
      return std::unexpected(made.error());
    }
  }
  int flags = O_WRONLY | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = posix::with_retries([&] { return ::open(full->c_str(), flags, 0644); });
  if (fd < 0) {
    return errno_error(errno, "open", *full, m_root);
  }
  FdGuard guard(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return errno_error(errno, "stat", *full, m_root);
  }
  return std::make_unique<PosixAppendFile>(guard.release(), static_cast<uint64_t>(st.st_size), shown(*full));
}

Status PosixStorage::rename(const std::string& from, const std::string& to) {
  auto full_from = full_path(from);
  if (!full_from) {
    return std::unexpected(full_from.error());
  }
  auto full_to = full_path(to);
  if (!full_to) {
    return std::unexpected(full_to.error());
  }
  int rc = -1;
  for (int attempt = 0; attempt < 3 && rc != 0; ++attempt) {
    if (auto made = make_parent(*full_to); !made) {
      return made;
    }
    rc = ::rename(full_from->c_str(), full_to->c_str());
    // ENOENT with the source present means the target's parent vanished (GC): try again.
    if (rc != 0 && (errno != ENOENT || ::access(full_from->c_str(), F_OK) != 0)) {
      break;
    }
  }
  if (rc != 0) {
    int err = errno;
    return errno_error(err, "rename " + shown(*full_from) + " to", *full_to, m_root);
  }
  return posix::fsync_dir(posix::parent_of(*full_to), m_root);
}

Status PosixStorage::list(const std::string& dir, const std::function<Status(const DirEntry&)>& visit) {
  return list_entries(dir, false, [&](DIR*, const DirEntry& entry) { return visit(entry); });
}

Status PosixStorage::list_temps(const std::string& dir,
                                const std::function<Status(const DirEntry&, const FileInfo&)>& visit) {
  return list_entries(dir, true, [&](DIR* handle, const DirEntry& entry) -> Status {
    struct stat st {};
    if (::fstatat(::dirfd(handle), entry.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return {};  // removed while listing
    }
    return visit(entry, FileInfo{static_cast<uint64_t>(st.st_size), posix::to_time_point(st.st_mtim),
                                 posix::entry_type(st.st_mode)});
  });
}

Status PosixStorage::list_entries(const std::string& dir, bool temps,
                                  const std::function<Status(DIR*, const DirEntry&)>& visit) {
  auto full = full_path(dir);
  if (!full) {
    return std::unexpected(full.error());
  }
  DIR* handle = nullptr;
  posix::with_retries([&] {
    handle = ::opendir(full->c_str());
    return handle == nullptr ? -1 : 0;
  });
  if (handle == nullptr) {
    return errno_error(errno, "list", *full, m_root);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(handle, ::closedir);
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(handle);
    if (entry == nullptr) {
      if (errno != 0) {
        return errno_error(errno, "list", *full, m_root);
      }
      return {};
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name.starts_with(".tmp-") != temps) {
      continue;
    }
    DirEntry out{std::string(name), EntryType::other};
    if (entry->d_type == DT_REG) {
      out.type = EntryType::file;
    } else if (entry->d_type == DT_DIR) {
      out.type = EntryType::directory;
    } else if (entry->d_type == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(::dirfd(handle), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;  // removed while listing
      }
      out.type = posix::entry_type(st.st_mode);
    }
    if (auto visited = visit(handle, out); !visited) {
      return visited;
    }
  }
}

Status PosixStorage::remove(const std::string& path) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  if (::unlink(full->c_str()) == 0) {
    return {};
  }
  // Linux unlink() reports EISDIR for a directory.
  if (errno != EISDIR) {
    return errno_error(errno, "remove", *full, m_root);
  }
  if (::rmdir(full->c_str()) == 0) {
    return {};
  }
  if (errno == ENOTEMPTY || errno == EEXIST) {
    return fail(Errc::conflict, "remove " + shown(*full) + ": directory not empty");
  }
  return errno_error(errno, "remove", *full, m_root);
}

// Writers may add entries while the tree is removed: retry a few times.
Status PosixStorage::remove_all(const std::string& path) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  std::error_code ec;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::filesystem::remove_all(*full, ec);
    if (!ec || ec == std::errc::no_such_file_or_directory) {
      return {};
    }
  }
  return errno_error(ec.value(), "remove", *full, m_root);
}

Result<FileInfo> PosixStorage::stat(const std::string& path) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  struct stat st {};
  if (posix::with_retries([&] { return ::stat(full->c_str(), &st); }, missing(*full)) != 0) {
    return errno_error(errno, "stat", *full, m_root);
  }
  return FileInfo{static_cast<uint64_t>(st.st_size), posix::to_time_point(st.st_mtim), posix::entry_type(st.st_mode)};
}

Status PosixStorage::touch(const std::string& path) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  if (posix::with_retries([&] { return ::utimensat(AT_FDCWD, full->c_str(), times, 0); }) != 0) {
    return errno_error(errno, "touch", *full, m_root);
  }
  return {};
}

Result<std::unique_ptr<Lock>> PosixStorage::lock(const std::string& path, bool wait) {
  auto full = full_path(path);
  if (!full) {
    return std::unexpected(full.error());
  }
  if (auto made = make_parent(*full); !made) {
    return std::unexpected(made.error());
  }
  int fd = posix::with_retries([&] { return ::open(full->c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); });
  if (fd < 0) {
    return errno_error(errno, "open lock", *full, m_root);
  }
  FdGuard guard(fd);
  if (auto locked = posix::lock_fd(fd, wait, shown(*full)); !locked) {
    return std::unexpected(locked.error());
  }
  return std::make_unique<PosixLock>(guard.release());
}

// The server stamps the marker's mtime: the one clock every host sharing the storage agrees on.
Result<Clock::time_point> PosixStorage::now(const std::string& path) {
  if (auto written = write_file(path, ""); !written) {
    return std::unexpected(written.error());
  }
  auto info = stat(path);
  if (!info) {
    return std::unexpected(info.error());
  }
  return info->mtime;
}

}  // namespace

Result<std::unique_ptr<Storage>> make_posix_storage(const std::filesystem::path& root) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(root, ec);
  if (ec) {
    return fail(Errc::io_error, "storage root " + root.string() + ": " + ec.message());
  }
  std::filesystem::create_directories(absolute, ec);
  if (ec || !std::filesystem::is_directory(absolute, ec)) {
    return fail(Errc::io_error,
                "storage root " + absolute.string() + ": not a directory" + (ec ? ": " + ec.message() : std::string()));
  }
  auto text = absolute.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') {
    text.pop_back();
  }
  bool network = posix::is_network_filesystem(text);
  return std::make_unique<PosixStorage>(std::move(text), network);
}

}  // namespace regd
