#include "file_io.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace regd::cli {

Error errno_error(int err, const std::string& what) {
  std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return Error{Errc::not_found, message};
    case ENOSPC:
    case EDQUOT:
      return Error{Errc::no_space, message};
    case EACCES:
    case EPERM:
      return Error{Errc::denied, message};
    default:
      return Error{Errc::io_error, message};
  }
}

Result<FileReader> FileReader::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(errno_error(errno, path.string()));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    return std::unexpected(errno_error(err, path.string()));
  }
  return FileReader(fd, static_cast<uint64_t>(st.st_size), path.string());
}

FileReader::FileReader(FileReader&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_size(other.m_size), m_path(std::move(other.m_path)) {}

FileReader& FileReader::operator=(FileReader&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = std::exchange(other.m_fd, -1);
    m_size = other.m_size;
    m_path = std::move(other.m_path);
  }
  return *this;
}

FileReader::~FileReader() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Result<size_t> FileReader::read(std::span<char> buf) {
  for (;;) {
    ssize_t n = ::read(m_fd, buf.data(), buf.size());
    if (n >= 0) {
      return static_cast<size_t>(n);
    }
    if (errno != EINTR) {
      return std::unexpected(errno_error(errno, m_path));
    }
  }
}

Status FileReader::drain(const ChunkSink& sink) {
  std::vector<char> buf(k_copy_buffer);
  for (;;) {
    auto n = read(buf);
    if (!n) {
      return std::unexpected(n.error());
    }
    if (*n == 0) {
      return {};
    }
    if (auto ok = sink(std::span<const char>(buf.data(), *n)); !ok) {
      return ok;
    }
  }
}

Result<FileWriter> FileWriter::create(const std::filesystem::path& target) {
  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) {
    return std::unexpected(errno_error(ec.value(), target.parent_path().string()));
  }
  std::random_device rd;
  auto temp = target.parent_path() / (".tmp-" + target.filename().string() + "-" + std::to_string(rd()));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    return std::unexpected(errno_error(errno, temp.string()));
  }
  return FileWriter(fd, temp, target);
}

FileWriter::FileWriter(FileWriter&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_temp(std::move(other.m_temp)), m_target(std::move(other.m_target)) {}

FileWriter& FileWriter::operator=(FileWriter&& other) noexcept {
  if (this != &other) {
    discard();
    m_fd = std::exchange(other.m_fd, -1);
    m_temp = std::move(other.m_temp);
    m_target = std::move(other.m_target);
  }
  return *this;
}

FileWriter::~FileWriter() {
  discard();
}

void FileWriter::discard() {
  if (m_fd >= 0) {
    ::close(m_fd);
    m_fd = -1;
    ::unlink(m_temp.c_str());
  }
}

Status FileWriter::write(std::span<const char> data) {
  while (!data.empty()) {
    ssize_t n = ::write(m_fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(errno_error(errno, m_target.string()));
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return {};
}

Status FileWriter::commit() {
  if (::fsync(m_fd) != 0) {
    return std::unexpected(errno_error(errno, m_target.string()));
  }
  if (::rename(m_temp.c_str(), m_target.c_str()) != 0) {
    return std::unexpected(errno_error(errno, m_target.string()));
  }
  ::close(m_fd);
  m_fd = -1;
  // The directory fsync makes the rename durable; a failure here leaves a complete file.
  int dir = ::open(m_target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

Result<std::string> read_small_file(const std::filesystem::path& path, size_t max_size) {
  auto reader = FileReader::open(path);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  if (reader->size() > max_size) {
    return fail(Errc::too_large, path.string() + ": larger than " + std::to_string(max_size) + " bytes");
  }
  std::string data(reader->size(), '\0');
  size_t done = 0;
  while (done < data.size()) {
    auto n = reader->read(std::span<char>(data.data() + done, data.size() - done));
    if (!n) {
      return std::unexpected(n.error());
    }
    if (*n == 0) {
      break;
    }
    done += *n;
  }
  data.resize(done);
  return data;
}

Status write_small_file(const std::filesystem::path& path, std::string_view data) {
  auto writer = FileWriter::create(path);
  if (!writer) {
    return std::unexpected(writer.error());
  }
  if (auto ok = writer->write(data); !ok) {
    return ok;
  }
  return writer->commit();
}

Result<BlobInfo> hash_file(const std::filesystem::path& path, DigestAlgorithm algorithm,
                           const std::function<void(uint64_t)>& progress) {
  auto reader = FileReader::open(path);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  Hasher hasher(algorithm);
  auto read = reader->drain([&](std::span<const char> chunk) -> Status {
    hasher.update(chunk);
    if (progress) {
      progress(chunk.size());
    }
    return {};
  });
  if (!read) {
    return std::unexpected(read.error());
  }
  return BlobInfo{hasher.digest(), hasher.size()};
}

Result<ScratchDir> ScratchDir::create() {
  std::error_code ec;
  auto base = std::filesystem::temp_directory_path(ec);
  if (ec) {
    base = "/tmp";
  }
  std::string pattern = (base / "regctl-XXXXXX").string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr) {
    return std::unexpected(errno_error(errno, "scratch directory in " + base.string()));
  }
  return ScratchDir(std::filesystem::path(name.data()));
}

ScratchDir::~ScratchDir() {
  if (!m_path.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
}

}  // namespace regd::cli
