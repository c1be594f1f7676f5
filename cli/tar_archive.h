// Tar archives for the oci-archive and docker-archive transports, streamed with libarchive:
// nothing is held in memory beyond one buffer.
#pragma once

#include <filesystem>

#include "regd/error.h"

namespace regd::cli {

// Extracts the regular files and directories of the tar (optionally gzip/zstd/xz compressed)
// at `file` into `dir`. Entries with absolute paths or ".." are refused; symlinks are kept only
// with `allow_symlinks` (docker save links duplicate layers) and are never followed while
// extracting; other entry types are skipped. Errors: not_found, corrupt (not a tar, or an
// unsafe entry: bad data, not a bad command line), no_space, io_error.
[[nodiscard]] Status extract_tar(const std::filesystem::path& file, const std::filesystem::path& dir,
                                 bool allow_symlinks);

// Writes every file and directory under `dir` into a POSIX pax tar at `file` (replaced
// atomically), names relative to `dir`, sorted, with mtime 0, owner 0 and modes 0644/0755, so
// equal trees give equal archives. Errors: no_space, io_error.
[[nodiscard]] Status write_tar(const std::filesystem::path& dir, const std::filesystem::path& file);

}  // namespace regd::cli
