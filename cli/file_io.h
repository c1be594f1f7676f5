// Plain files outside the storage tree (OCI layouts, archives, scratch space): streaming reads,
// atomic writes (temp file beside the target, fsync, rename) and digests of files.
// The registry's own storage tree is never touched from here: that is core's Storage seam.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "regd/digest.h"
#include "regd/error.h"
#include "regd/registry.h"

namespace regd::cli {

// Size of the buffer every streaming copy uses.
inline constexpr size_t k_copy_buffer = 1 << 20;

// Receives a copy's data in order; an error stops the copy and is returned as is.
using ChunkSink = std::function<Status(std::span<const char>)>;

// A file opened for sequential reading. Not thread-safe.
class FileReader {
 public:
  // Errors: not_found, io_error.
  [[nodiscard]] static Result<FileReader> open(const std::filesystem::path& path);
  FileReader(FileReader&& other) noexcept;
  FileReader& operator=(FileReader&& other) noexcept;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  ~FileReader();

  // Reads up to buf.size() bytes; 0 at end of file. Errors: io_error.
  [[nodiscard]] Result<size_t> read(std::span<char> buf);
  // Reads the rest of the file into `sink`, k_copy_buffer bytes at a time. Errors: io_error,
  // the sink's.
  [[nodiscard]] Status drain(const ChunkSink& sink);
  uint64_t size() const { return m_size; }

 private:
  FileReader(int fd, uint64_t size, std::string path) : m_fd(fd), m_size(size), m_path(std::move(path)) {}
  int m_fd = -1;
  uint64_t m_size = 0;
  std::string m_path;
};

// A new file written to a temp name in the target's directory; commit() fsyncs and renames it
// over the target. Destroying it uncommitted removes the temp file. Not thread-safe.
class FileWriter {
 public:
  // Creates parent directories. Errors: no_space, io_error.
  [[nodiscard]] static Result<FileWriter> create(const std::filesystem::path& target);
  FileWriter(FileWriter&& other) noexcept;
  FileWriter& operator=(FileWriter&& other) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();

  [[nodiscard]] Status write(std::span<const char> data);
  Status write(std::string_view data) { return write(std::span<const char>(data.data(), data.size())); }
  [[nodiscard]] Status commit();

 private:
  FileWriter(int fd, std::filesystem::path temp, std::filesystem::path target)
      : m_fd(fd), m_temp(std::move(temp)), m_target(std::move(target)) {}
  void discard();
  int m_fd = -1;
  std::filesystem::path m_temp;
  std::filesystem::path m_target;
};

// Whole contents of a small file. Errors: not_found, too_large (over max_size), io_error.
[[nodiscard]] Result<std::string> read_small_file(const std::filesystem::path& path, size_t max_size);
// Atomically replaces `path` with `data`.
[[nodiscard]] Status write_small_file(const std::filesystem::path& path, std::string_view data);
// Digest and size of a file, streaming. `progress` (may be empty) receives byte counts.
[[nodiscard]] Result<BlobInfo> hash_file(const std::filesystem::path& path, DigestAlgorithm algorithm,
                                         const std::function<void(uint64_t)>& progress = {});

// Converts an errno value of an operation on `what` to an Error (ENOENT: not_found,
// ENOSPC/EDQUOT: no_space, EACCES/EPERM: denied, else io_error).
Error errno_error(int err, const std::string& what);

// A scratch directory under $TMPDIR, removed with its contents when destroyed.
class ScratchDir {
 public:
  // Errors: io_error.
  [[nodiscard]] static Result<ScratchDir> create();
  ScratchDir(ScratchDir&& other) noexcept : m_path(std::move(other.m_path)) { other.m_path.clear(); }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir();
  const std::filesystem::path& path() const { return m_path; }

 private:
  explicit ScratchDir(std::filesystem::path path) : m_path(std::move(path)) {}
  std::filesystem::path m_path;
};

}  // namespace regd::cli
