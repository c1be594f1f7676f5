// The storage seam: the only place core touches a filesystem. Paths are relative to the storage
// root, '/'-separated, with no "", "." or ".." component (invalid_argument otherwise).
//
// Write discipline (design.md): every file is written to a temp file in the target's directory,
// fsynced, renamed over the target, and the directory fsynced, so readers never see a partial
// file. The one exception is an upload's data file, appended under an advisory lock.
//
// Network filesystems: reads retry ESTALE/ENOENT briefly before reporting not_found.
// All implementations are thread-safe; handles (ReadFile, WriteFile, AppendFile, Lock) are not.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "regd/error.h"

namespace regd {

using Clock = std::chrono::system_clock;

// The time `seconds` after the epoch, when it lies in the years 1900 to 2200; nullopt
// otherwise. Clock counts nanoseconds in 64 bits (1677 to 2262): a time read from a file, an
// object's metadata or a peer's header must not overflow it, nor arithmetic near it.
std::optional<Clock::time_point> clock_from_seconds(int64_t seconds);

enum class EntryType { file, directory, other };

struct FileInfo {
  uint64_t size = 0;
  Clock::time_point mtime;
  EntryType type = EntryType::file;
};

struct DirEntry {
  std::string name;  // the last path component only
  EntryType type = EntryType::other;
};

// An open file for positional reads. The file stays readable while open even if it is renamed
// or removed. native_handle() is a POSIX fd for sendfile, or -1 when the backend has none.
class ReadFile {
 public:
  virtual ~ReadFile() = default;
  virtual uint64_t size() const = 0;
  // Reads up to buf.size() bytes at offset; returns 0 only at end of file. Errors: io_error.
  [[nodiscard]] virtual Result<size_t> read_at(uint64_t offset, std::span<char> buf) = 0;
  virtual int native_handle() const = 0;
};

// Reads from `offset` until `buf` is full or the file ends; returns the bytes read.
// Errors: io_error.
[[nodiscard]] Result<size_t> read_full_at(ReadFile& file, uint64_t offset, std::span<char> buf);

// A new file being written to a temp name beside its target. Destroying it without a successful
// commit() removes the temp file.
class WriteFile {
 public:
  virtual ~WriteFile() = default;
  // Errors: no_space, io_error.
  [[nodiscard]] virtual Status write(std::span<const char> data) = 0;
  Status write(std::string_view data) { return write(std::span<const char>(data.data(), data.size())); }
  virtual uint64_t size() const = 0;
  // fsync, rename over the target (replacing it), fsync the directory. Errors: no_space, io_error.
  [[nodiscard]] virtual Status commit() = 0;
};

// An existing file opened for writing at explicit offsets (upload data). Callers hold a Lock.
class AppendFile {
 public:
  virtual ~AppendFile() = default;
  virtual uint64_t size() const = 0;  // current length, including what this handle wrote
  // Writes at the end of the file. Errors: no_space, io_error.
  [[nodiscard]] virtual Status append(std::span<const char> data) = 0;
  // Cuts the file back to `size` bytes (undoing a partial chunk). Errors: io_error.
  [[nodiscard]] virtual Status truncate(uint64_t size) = 0;
  // fsync. Errors: no_space, io_error.
  [[nodiscard]] virtual Status sync() = 0;
};

// An exclusive advisory lock (fcntl on POSIX; works across hosts on NFSv4 and GlusterFS).
// Released when destroyed, and by the OS when the holder dies.
class Lock {
 public:
  virtual ~Lock() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Whole contents of a small file (links, manifests, startedat). Errors: not_found,
  // too_large (over max_size), io_error.
  [[nodiscard]] virtual Result<std::string> read(const std::string& path, size_t max_size) = 0;
  // Errors: not_found, io_error.
  [[nodiscard]] virtual Result<std::unique_ptr<ReadFile>> open_read(const std::string& path) = 0;
  // Starts an atomic write of `path`, creating parent directories. Errors: no_space, io_error.
  [[nodiscard]] virtual Result<std::unique_ptr<WriteFile>> create(const std::string& path) = 0;
  // Opens `path` for appending; creates it (and parents) when `create` is set and it is missing.
  // Errors: not_found, no_space, io_error.
  [[nodiscard]] virtual Result<std::unique_ptr<AppendFile>> open_append(const std::string& path, bool create) = 0;
  // Atomically renames a file or directory, replacing a file target, creating the target's
  // parents, then fsyncs the target directory. Errors: not_found, io_error.
  [[nodiscard]] virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Calls `visit` for each entry of a directory (unordered, no "." or ".."; names starting with
  // ".tmp-" are temp files and are skipped). Stops at, and returns, the first error `visit`
  // returns. Errors: not_found, io_error.
  [[nodiscard]] virtual Status list(const std::string& dir, const std::function<Status(const DirEntry&)>& visit) = 0;
  // Calls `visit` for each leftover of an interrupted atomic write directly in `dir`: the ".tmp-"
  // files and directories that list() hides (a WriteFile never committed, an upload session
  // never published), with their size and mtime. Remove one with remove_all(dir + "/" + name).
  // Errors: not_found, io_error.
  [[nodiscard]] virtual Status list_temps(const std::string& dir,
                                          const std::function<Status(const DirEntry&, const FileInfo&)>& visit) = 0;
  // Removes a file or an empty directory. Errors: not_found, conflict (directory not empty), io_error.
  [[nodiscard]] virtual Status remove(const std::string& path) = 0;
  // Removes a file or a directory tree; missing is success. Errors: io_error.
  [[nodiscard]] virtual Status remove_all(const std::string& path) = 0;
  // Errors: not_found, io_error.
  [[nodiscard]] virtual Result<FileInfo> stat(const std::string& path) = 0;
  // Sets mtime to the storage's current time. Errors: not_found, io_error.
  [[nodiscard]] virtual Status touch(const std::string& path) = 0;
  // Takes an exclusive lock on `path` (created if missing). With wait=false, a lock held by
  // another process or handle is conflict. Errors: conflict, io_error.
  [[nodiscard]] virtual Result<std::unique_ptr<Lock>> lock(const std::string& path, bool wait) = 0;
  // The storage clock: mtime of a freshly written marker file at `path` (GC's T0).
  [[nodiscard]] virtual Result<Clock::time_point> now(const std::string& path) = 0;

  // Makes `path` an (empty) directory that stat() and list() find, creating parents; an existing
  // one is success. By default a temp file is written in it and removed (readers skip it, GC
  // removes it should the remove never happen). Errors: no_space, denied, io_error.
  [[nodiscard]] virtual Status make_directory(const std::string& path);
  // A URL from which a client without credentials can GET `path` for `ttl` (S3: a presigned
  // GET), or nullopt when the backend has none (POSIX).
  virtual std::optional<std::string> presign_get(const std::string& path, std::chrono::seconds ttl) {
    (void)path;
    (void)ttl;
    return std::nullopt;
  }
  // True when list() already yields names in byte order and a directory's mtime does not follow
  // its entries (object stores): the sorted-name caches (sorted_names.h) are neither read nor
  // written there.
  virtual bool lists_in_order() const { return false; }

  // Convenience: create + write + commit.
  [[nodiscard]] Status write_file(const std::string& path, std::string_view data);
};

// Checks a storage path: relative, non-empty, no "", "." or ".." component, no NUL.
// Errors: invalid_argument.
[[nodiscard]] Status check_storage_path(const std::string& path);

enum class StorageAccess { read, write };

// Checks that the storage can be used: for read, that the registry tree can be listed (a root
// with nothing in it yet passes); for write, that a probe file under _regd/readyz/ can be
// written and removed. Used at start-up (refuse to start) and by /readyz. The message starts
// with "storage not readable" or "storage not writable" and names only storage-relative paths.
// Errors: denied, no_space, io_error (the storage's code).
[[nodiscard]] Status probe_storage(Storage& storage, StorageAccess access);

// Checks that the storage root holds a registry tree (docker/registry/v2). A root without one is
// an empty directory, a network share that is not mounted, or the wrong path: a tool that reads or
// cleans up must not take it for an empty registry. With `create`, a missing tree is made (an
// empty registry) by writing and removing a probe file in it. Messages name only
// storage-relative paths. Errors: no_registry (missing, or not a directory, without create;
// not a directory with it), denied, no_space, io_error.
[[nodiscard]] Status require_registry_tree(Storage& storage, bool create);

// The POSIX backend over a local or network filesystem mounted at `root` (created if missing).
// Errors: io_error when root cannot be created or is not a directory.
[[nodiscard]] Result<std::unique_ptr<Storage>> make_posix_storage(const std::filesystem::path& root);

}  // namespace regd
