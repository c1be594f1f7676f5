// The two kinds of ImageEnd (remote_copy.h): a repository of the storage tree, through core's
// Registry, and a repository of another registry, through core's remote::Client.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "posix_util.h"
#include "regd/digest.h"
#include "regd/remote_copy.h"
#include "try.h"

namespace regd::sync {

namespace {

// Converts errno after an operation on the scratch file.
std::unexpected<Error> spool_error(int err, const std::string& what) {
  return fail(posix::errc_from_errno(err), what + ": " + std::strerror(err));
}

// A blob fetched from one registry on its way to another: an unnamed scratch file under
// $TMPDIR (removed as soon as it is created, so nothing is left behind by a crash), so that the
// upload can re-read it (retries, chunks) without holding it in memory.
class SpoolFile final : public ReadFile {
 public:
  static Result<std::unique_ptr<SpoolFile>> create() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/regd-spool-XXXXXX";
    int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) {
      return spool_error(errno, "scratch file " + pattern);
    }
    ::unlink(pattern.c_str());
    return std::unique_ptr<SpoolFile>(new SpoolFile(fd));
  }
  ~SpoolFile() override { ::close(m_fd); }
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  Status append(std::span<const char> data) {
    while (!data.empty()) {
      ssize_t n = ::pwrite(m_fd, data.data(), data.size(), static_cast<off_t>(m_size));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return spool_error(errno, "scratch file");
      }
      m_size += static_cast<uint64_t>(n);
      data = data.subspan(static_cast<size_t>(n));
    }
    return {};
  }
  uint64_t size() const override { return m_size; }
  Result<size_t> read_at(uint64_t offset, std::span<char> buf) override {
    for (;;) {
      ssize_t n = ::pread(m_fd, buf.data(), buf.size(), static_cast<off_t>(offset));
      if (n >= 0) {
        return static_cast<size_t>(n);
      }
      if (errno != EINTR) {
        return spool_error(errno, "scratch file");
      }
    }
  }
  int native_handle() const override { return m_fd; }

 private:
  explicit SpoolFile(int fd) : m_fd(fd) {}
  int m_fd;
  uint64_t m_size = 0;
};

remote::BlobSource source_of(ReadFile& file, CopyProgress& progress) {
  return [&file, &progress](uint64_t offset, std::span<char> buf) -> Result<size_t> {
    auto n = file.read_at(offset, buf);
    if (n) {
      progress.add_bytes(*n);
    }
    return n;
  };
}

class LocalEnd final : public ImageEnd {
 public:
  LocalEnd(Registry& registry, std::string repo) : m_registry(registry), m_repo(std::move(repo)) {}

  std::string name() const override { return m_repo; }

  Result<Manifest> get_manifest(std::string_view reference) override {
    auto manifest = m_registry.get_manifest(m_repo, reference);
    if (manifest && digest_of(manifest->content, manifest->digest.algorithm()) != manifest->digest) {
      return fail(Errc::corrupt, m_repo + "@" + manifest->digest.str() +
                                     ": stored manifest does not match its digest (run regctl verify)");
    }
    return manifest;
  }

  Result<bool> has_manifest(std::string_view reference, const Digest& digest) override {
    auto manifest = m_registry.get_manifest(m_repo, reference);
    if (!manifest) {
      Errc code = manifest.error().code;
      if (code == Errc::manifest_unknown || code == Errc::name_unknown) {
        return false;
      }
      return std::unexpected(manifest.error());
    }
    return manifest->digest == digest;
  }

  Status put_manifest(std::string_view reference, const Manifest& manifest) override {
    auto put = m_registry.put_manifest(m_repo, manifest.digest.str(), manifest.media_type, manifest.content);
    if (!put) {
      return fail(put.error().code, m_repo + "@" + manifest.digest.str() + ": " + put.error().message);
    }
    if (Digest::parse(reference)) {
      return {};
    }
    return m_registry.set_tag(m_repo, reference, manifest.digest);
  }

  Result<bool> has_blob(const Descriptor& blob, const std::vector<std::string>&, bool&) override {
    if (m_registry.stat_blob(m_repo, blob.digest)) {
      return true;
    }
    // Stored for another repository: a link is all this one needs.
    return m_registry.mount_blob(m_repo, blob.digest, std::nullopt).has_value();
  }

  Result<std::unique_ptr<ReadFile>> open_blob(const Descriptor& blob) override {
    return m_registry.open_blob(m_repo, blob.digest);
  }

  Status read_blob(const Descriptor& blob, const remote::BlobSink& sink) override {
    auto file = open_blob(blob);
    if (!file) {
      return std::unexpected(file.error());
    }
    return copy_verified(**file, blob, m_repo, sink);
  }

  Status write_blob(const Descriptor& blob, ImageEnd& from, CopyProgress& progress) override {
    auto writer = m_registry.put_blob(m_repo, blob.digest);
    if (!writer) {
      return std::unexpected(writer.error());
    }
    if (*writer == nullptr) {
      return {};
    }
    progress.expect(0, blob.size);
    REGD_TRY(from.read_blob(blob, [&](std::span<const char> data) -> Status {
      progress.add_bytes(data.size());
      return (*writer)->write(data);
    }));
    auto committed = (*writer)->commit();
    if (!committed) {
      return std::unexpected(committed.error());
    }
    return {};
  }

  Result<std::vector<Descriptor>> referrers(const Digest& subject) override {
    return m_registry.list_referrers(m_repo, subject, std::nullopt);
  }

  Result<std::vector<std::string>> list_tags() override {
    std::vector<std::string> tags;
    std::string last;
    for (;;) {
      auto page = m_registry.list_tags(m_repo, 1000, last);
      if (!page) {
        return std::unexpected(page.error());
      }
      tags.insert(tags.end(), page->items.begin(), page->items.end());
      if (!page->more || page->items.empty()) {
        return tags;
      }
      last = page->items.back();
    }
  }

 private:
  Registry& m_registry;
  std::string m_repo;
};

class RemoteEnd final : public ImageEnd {
 public:
  RemoteEnd(remote::Client& client, std::string repo) : m_client(client), m_repo(std::move(repo)) {}

  std::string name() const override { return "docker://" + m_client.host() + "/" + m_repo; }

  Result<Manifest> get_manifest(std::string_view reference) override {
    return m_client.get_manifest(m_repo, reference);
  }

  Result<bool> has_manifest(std::string_view reference, const Digest& digest) override {
    auto found = m_client.head_manifest(m_repo, reference);
    if (!found) {
      return std::unexpected(found.error());
    }
    return *found && **found == digest;
  }

  Status put_manifest(std::string_view reference, const Manifest& manifest) override {
    return m_client.put_manifest(m_repo, reference, manifest.media_type, manifest.content);
  }

  Result<bool> has_blob(const Descriptor& blob, const std::vector<std::string>& mount_from, bool& mounted) override {
    auto size = m_client.stat_blob(m_repo, blob.digest);
    if (!size) {
      return std::unexpected(size.error());
    }
    if (*size) {
      return true;
    }
    for (const auto& from : mount_from) {
      auto done = m_client.mount_blob(m_repo, blob.digest, from);
      if (!done) {
        return std::unexpected(done.error());
      }
      if (*done) {
        mounted = true;
        return true;
      }
    }
    return false;
  }

  Result<std::unique_ptr<ReadFile>> open_blob(const Descriptor&) override {
    return fail(Errc::unsupported, name() + ": blobs are streamed");
  }

  Status read_blob(const Descriptor& blob, const remote::BlobSink& sink) override {
    return m_client.get_blob(m_repo, blob.digest, blob.size, sink);
  }

  Status write_blob(const Descriptor& blob, ImageEnd& from, CopyProgress& progress) override {
    auto file = from.open_blob(blob);
    if (!file && file.error().code != Errc::unsupported) {
      return std::unexpected(file.error());
    }
    if (!file) {
      // Registry to registry: through a scratch file, verified on the way in.
      auto spool = SpoolFile::create();
      if (!spool) {
        return std::unexpected(spool.error());
      }
      REGD_TRY(from.read_blob(blob, [&](std::span<const char> data) { return (*spool)->append(data); }));
      file = std::unique_ptr<ReadFile>(std::move(*spool));
    }
    progress.expect(0, blob.size);
    return m_client.put_blob(m_repo, blob.digest, blob.size, source_of(**file, progress));
  }

  Result<std::vector<Descriptor>> referrers(const Digest& subject) override {
    return m_client.list_referrers(m_repo, subject);
  }

  Result<std::vector<std::string>> list_tags() override { return m_client.list_tags(m_repo); }

 private:
  remote::Client& m_client;
  std::string m_repo;
};

}  // namespace

Status copy_verified(ReadFile& file, const Descriptor& blob, std::string_view name, const remote::BlobSink& sink) {
  constexpr size_t k_buffer = 1 << 20;
  Hasher hasher(blob.digest.algorithm());
  std::vector<char> buf(k_buffer);
  for (uint64_t offset = 0;;) {
    auto n = file.read_at(offset, buf);
    if (!n) {
      return std::unexpected(n.error());
    }
    if (*n == 0) {
      break;
    }
    std::span<const char> chunk(buf.data(), *n);
    hasher.update(chunk);
    if (auto ok = sink(chunk); !ok) {
      return ok;
    }
    offset += *n;
  }
  if (hasher.digest() != blob.digest || hasher.size() != blob.size) {
    return fail(Errc::corrupt, std::string(name) + "@" + blob.digest.str() +
                                   ": stored blob does not match its digest or size (run regctl verify)");
  }
  return {};
}

std::unique_ptr<ImageEnd> local_end(Registry& registry, std::string repo) {
  return std::make_unique<LocalEnd>(registry, std::move(repo));
}

std::unique_ptr<ImageEnd> remote_end(remote::Client& client, std::string repo) {
  return std::make_unique<RemoteEnd>(client, std::move(repo));
}

}  // namespace regd::sync
