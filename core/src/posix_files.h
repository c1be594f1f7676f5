// File handles of the POSIX storage backend (ReadFile, WriteFile, AppendFile, Lock) and the
// low-level calls behind them. Private to core/src/posix_storage.cc.
#pragma once

#include <cerrno>
#include <random>
#include <span>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix_util.h"
#include "regd/storage.h"

namespace regd::posix {

// Retries EINTR; short writes continue where they stopped. `offset` < 0 means write().
inline Status write_all(int fd, std::span<const char> data, int64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = offset < 0 ? ::write(fd, data.data() + done, data.size() - done)
                           : ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(errno, "write", path);
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

// Starts writing a large piece out to the disk now, without waiting (sync_file_range), so the
// fsync that commits the file finds little left: a big blob's fsync overlaps its upload instead
// of following it. Small pieces (links, manifests) are left to the fsync. Errors are the fsync's
// to report; a filesystem without it ignores it.
inline void start_writeback(int fd, uint64_t offset, size_t length) {
  constexpr size_t k_writeback_min = 256 * 1024;
  if (length >= k_writeback_min) {
    (void)::sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(length), SYNC_FILE_RANGE_WRITE);
  }
}

inline std::string random_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<uint64_t>(::getpid())};
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (auto& c : out) {
    c = k_digits[rng() & 0xf];
  }
  return out;
}

class PosixReadFile final : public ReadFile {
 public:
  PosixReadFile(int fd, uint64_t size, std::string path) : m_fd(fd), m_size(size), m_path(std::move(path)) {}
  uint64_t size() const override { return m_size; }
  int native_handle() const override { return m_fd.get(); }

  Result<size_t> read_at(uint64_t offset, std::span<char> buf) override {
    for (;;) {
      ssize_t n = ::pread(m_fd.get(), buf.data(), buf.size(), static_cast<off_t>(offset));
      if (n >= 0) {
        return static_cast<size_t>(n);
      }
      if (errno != EINTR) {
        return errno_error(errno, "read", m_path);
      }
    }
  }

 private:
  FdGuard m_fd;
  uint64_t m_size;
  std::string m_path;
};

class PosixWriteFile final : public WriteFile {
 public:
  // `root`: the storage root, for storage-relative paths in messages.
  PosixWriteFile(int fd, std::string temp, std::string target, std::string root)
      : m_fd(fd), m_temp(std::move(temp)), m_target(std::move(target)), m_root(std::move(root)) {}
  ~PosixWriteFile() override {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    if (!m_committed) {
      ::unlink(m_temp.c_str());
    }
  }
  PosixWriteFile(const PosixWriteFile&) = delete;
  PosixWriteFile& operator=(const PosixWriteFile&) = delete;

  uint64_t size() const override { return m_size; }

  Status write(std::span<const char> data) override {
    if (m_fd < 0) {
      return fail(Errc::io_error, "write " + relative_to(m_target, m_root) + ": file already committed or failed");
    }
    auto written = write_all(m_fd, data, -1, relative_to(m_temp, m_root));
    if (written) {
      start_writeback(m_fd, m_size, data.size());
      m_size += data.size();
    }
    return written;
  }

  // Rename last: readers must never see a partial file.
  Status commit() override {
    if (m_fd < 0) {
      return fail(Errc::io_error, "commit " + relative_to(m_target, m_root) + ": file already committed or failed");
    }
    int fd = std::exchange(m_fd, -1);
    if (::fsync(fd) != 0) {
      int err = errno;
      ::close(fd);
      return errno_error(err, "fsync", m_temp, m_root);
    }
    if (::close(fd) != 0) {
      return errno_error(errno, "close", m_temp, m_root);
    }
    if (::rename(m_temp.c_str(), m_target.c_str()) != 0) {
      return errno_error(errno, "rename to", m_target, m_root);
    }
    m_committed = true;
    return fsync_dir(parent_of(m_target), m_root);
  }

 private:
  int m_fd;
  std::string m_temp;
  std::string m_target;
  std::string m_root;
  uint64_t m_size = 0;
  bool m_committed = false;
};

// Writes at the tracked size with pwrite: O_APPEND is not reliable across NFS clients.
class PosixAppendFile final : public AppendFile {
 public:
  PosixAppendFile(int fd, uint64_t size, std::string path) : m_fd(fd), m_size(size), m_path(std::move(path)) {}
  uint64_t size() const override { return m_size; }

  Status append(std::span<const char> data) override {
    auto written = write_all(m_fd.get(), data, static_cast<int64_t>(m_size), m_path);
    if (written) {
      start_writeback(m_fd.get(), m_size, data.size());
      m_size += data.size();
    }
    return written;
  }

  Status truncate(uint64_t size) override {
    while (::ftruncate(m_fd.get(), static_cast<off_t>(size)) != 0) {
      if (errno != EINTR) {
        return errno_error(errno, "truncate", m_path);
      }
    }
    m_size = size;
    return {};
  }

  Status sync() override {
    if (::fsync(m_fd.get()) != 0) {
      return errno_error(errno, "fsync", m_path);
    }
    return {};
  }

 private:
  FdGuard m_fd;
  uint64_t m_size;
  std::string m_path;
};

// Closing the descriptor releases the fcntl lock; the kernel does the same when the holder dies.
class PosixLock final : public Lock {
 public:
  explicit PosixLock(int fd) : m_fd(fd) {}

 private:
  FdGuard m_fd;
};

// Takes a whole-file write lock. Open file description locks belong to this descriptor, so two
// handles in one process exclude each other; classic POSIX locks are the fallback.
inline Status lock_fd(int fd, bool wait, const std::string& path) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  bool ofd = true;
  for (;;) {
    int cmd = ofd ? (wait ? F_OFD_SETLKW : F_OFD_SETLK) : (wait ? F_SETLKW : F_SETLK);
    if (::fcntl(fd, cmd, &fl) == 0) {
      return {};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EINVAL && ofd) {
      ofd = false;
      continue;
    }
    if (errno == EAGAIN || errno == EACCES) {
      return fail(Errc::conflict, "lock " + path + ": held by another writer");
    }
    return errno_error(errno, "lock", path);
  }
}

}  // namespace regd::posix
