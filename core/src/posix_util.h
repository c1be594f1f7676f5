// Helpers of the POSIX storage backend: path checks, errno translation, retries for network
// filesystems, directory fsync and creation. Private to core/src/posix_storage.cc.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "regd/error.h"
#include "regd/storage.h"
#include "regd/storage_stats.h"

namespace regd::posix {

// One errno -> Errc table for the whole backend.
inline Errc errc_from_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Errc::not_found;
    case ENOSPC:
    case EDQUOT:
      return Errc::no_space;
    case EEXIST:
      return Errc::exists;
    case ENOTEMPTY:
      return Errc::conflict;
    case EACCES:
    case EPERM:
    case EROFS:
      return Errc::denied;
    case ENAMETOOLONG:
      return Errc::invalid_argument;
    default:
      return Errc::io_error;
  }
}

// `full` relative to the storage root `root` ("." for the root itself), for messages.
inline std::string relative_to(const std::string& full, const std::string& root) {
  if (full == root) {
    return ".";
  }
  if (full.size() > root.size() && full.starts_with(root) && full[root.size()] == '/') {
    return full.substr(root.size() + 1);
  }
  return full;
}

// Counts an error of the backend in storage_stats() (routine outcomes are not counted).
inline void count_error(Errc code) {
  count_storage_error(code);
}

// "<what> <path>: <strerror>" with the code errno maps to, counted. Callers pass
// storage-relative paths.
inline std::unexpected<Error> errno_error(int err, std::string_view what, const std::string& path) {
  Errc code = errc_from_errno(err);
  count_error(code);
  return fail(code, std::string(what) + " " + path + ": " + std::strerror(err));
}
// The same for an absolute path `full` below the storage root `root` (errno is read first).
inline std::unexpected<Error> errno_error(int err, std::string_view what, const std::string& full,
                                          const std::string& root) {
  return errno_error(err, what, relative_to(full, root));
}

// Relative, '/'-separated, no empty, "." or ".." component, no NUL.
inline Status check_path(const std::string& path) {
  return check_storage_path(path);
}

inline Clock::time_point to_time_point(const timespec& ts) {
  auto since_epoch = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(since_epoch));
}

inline EntryType entry_type(mode_t mode) {
  if (S_ISREG(mode)) {
    return EntryType::file;
  }
  return S_ISDIR(mode) ? EntryType::directory : EntryType::other;
}

inline std::string parent_of(const std::string& full) {
  auto slash = full.rfind('/');
  return slash == std::string::npos || slash == 0 ? std::string("/") : full.substr(0, slash);
}

// Network filesystems cache attributes and lookups: a fresh file may look missing for a moment.
inline bool is_network_filesystem(const std::string& path) {
  struct statfs info {};
  if (::statfs(path.c_str(), &info) != 0) {
    return false;
  }
  switch (static_cast<unsigned long>(info.f_type)) {
    case 0x6969:      // NFS
    case 0x00c36400:  // CephFS
    case 0x65735546:  // FUSE (GlusterFS, s3fs, ...)
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x5346414F:  // AFS
    case 0x0BD00BD0:  // Lustre
    case 0x47504653:  // GPFS
    case 0x01021997:  // 9p
      return true;
    default:
      return false;
  }
}

// Opening a directory makes an NFS client revalidate its cached attributes, which drops a stale
// negative lookup of a file created there by another host.
inline void revalidate_parent(const std::string& full) {
  int fd = ::open(parent_of(full).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
  }
}

// Runs `call` (a POSIX call returning -1 and setting errno on failure) and retries EINTR at
// once and ESTALE with a growing pause (1, 2, 4, ... ms, about 60 ms in all) and, when `missing`
// names the path, a revalidation of its directory: a stale handle from a rename on another
// client lasts as long as the client's attribute cache. With `missing` set (read paths on
// network filesystems), ENOENT is retried once, at once, after a revalidation of that path's
// directory (which is what drops a client's stale negative entry; a pause before it only made
// every legitimate miss on a network filesystem 5 ms slower: about 30 of them a push, since
// clients ask for blobs before they upload them). errno is preserved.
template <class Call>
auto with_retries(Call call, const std::string* missing = nullptr) {
  constexpr int k_attempts = 7;
  bool retried_missing = false;
  for (int attempt = 1;; ++attempt) {
    auto result = call();
    if (result != -1 || attempt >= k_attempts) {
      if (result != -1 && retried_missing) {
        storage_stats().miss_recheck_hits.fetch_add(1, std::memory_order_relaxed);
      }
      return result;
    }
    int err = errno;
    if (err == EINTR) {
      continue;
    }
    if (err == ESTALE) {
      storage_stats().estale_retries.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::milliseconds(1 << (attempt - 1)));
      if (missing != nullptr) {
        revalidate_parent(*missing);
      }
      errno = err;
      continue;
    }
    if (err == ENOENT && missing != nullptr && !retried_missing) {
      retried_missing = true;
      storage_stats().miss_rechecks.fetch_add(1, std::memory_order_relaxed);
      revalidate_parent(*missing);
      errno = err;
      continue;
    }
    return result;
  }
}

// fsync of a directory makes a rename or create inside it durable. Some filesystems refuse
// fsync on a directory (EINVAL): nothing more can be done there.
inline Status fsync_dir(const std::string& dir, const std::string& root) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error(errno, "open directory", dir, root);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL && err != EROFS) {
    return errno_error(err, "fsync directory", dir, root);
  }
  return {};
}

// mkdir -p below an existing `stop` directory, fsyncing each parent that gained an entry so
// a committed file's directory survives a crash too.
inline Status make_dirs(const std::string& dir, const std::string& stop) {
  if (dir.size() <= stop.size()) {
    return {};
  }
  if (::mkdir(dir.c_str(), 0755) == 0) {
    return fsync_dir(parent_of(dir), stop);
  }
  if (errno == EEXIST) {
    return {};
  }
  if (errno != ENOENT) {
    return errno_error(errno, "mkdir", dir, stop);
  }
  if (auto made = make_dirs(parent_of(dir), stop); !made) {
    return made;
  }
  if (::mkdir(dir.c_str(), 0755) == 0) {
    return fsync_dir(parent_of(dir), stop);
  }
  if (errno == EEXIST) {
    return {};
  }
  return errno_error(errno, "mkdir", dir, stop);
}

// Closes a descriptor on scope exit.
class FdGuard {
 public:
  explicit FdGuard(int fd) : m_fd(fd) {}
  ~FdGuard() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return m_fd; }
  int release() { return std::exchange(m_fd, -1); }

 private:
  int m_fd;
};

}  // namespace regd::posix
