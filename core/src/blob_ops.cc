#include "layout.h"
#include "regd/reference.h"
#include "registry_impl.h"

namespace regd {

namespace {

// Hashes while it writes to a temp file beside the blob's data; commit() renames it in place
// only once the content matches the digest, then links the blob into the repository.
class BlobWriterImpl final : public BlobWriter {
 public:
  BlobWriterImpl(std::shared_ptr<Storage> storage, std::unique_ptr<WriteFile> file, Digest digest,
                 std::string link_path)
      : m_storage(std::move(storage)),
        m_file(std::move(file)),
        m_digest(std::move(digest)),
        m_hasher(m_digest.algorithm()),
        m_link_path(std::move(link_path)) {}
  ~BlobWriterImpl() override {
    if (m_file) {
      m_file.reset();
      remove_empty_dir();
    }
  }
  BlobWriterImpl(const BlobWriterImpl&) = delete;
  BlobWriterImpl& operator=(const BlobWriterImpl&) = delete;

  Status store(std::span<const char> data) override {
    if (!m_file) {
      return fail(Errc::invalid_argument, "blob " + m_digest.str() + ": writer already committed or failed");
    }
    return m_file->write(data);
  }
  void hash(std::span<const char> data) override { m_hasher.update(data); }

  Result<BlobInfo> commit() override {
    if (!m_file) {
      return fail(Errc::invalid_argument, "blob " + m_digest.str() + ": writer already committed or failed");
    }
    auto file = std::move(m_file);
    Digest actual = m_hasher.digest();
    if (actual != m_digest) {
      file.reset();
      remove_empty_dir();
      return fail(Errc::digest_invalid, "blob content is " + actual.str() + ", not " + m_digest.str());
    }
    REGD_TRY(file->commit());
    // The link goes last: a repository never links data that is not complete.
    REGD_TRY(m_storage->write_file(m_link_path, layout::link_content(m_digest)));
    return BlobInfo{m_digest, m_hasher.size()};
  }

 private:
  // A refused or abandoned blob leaves no blobs/<alg>/<xx>/<hex>/ directory behind (its temp
  // file is gone by now). remove() takes only an empty directory: one holding a concurrent
  // writer's temp file or committed data stays. A writer that made the directory an instant
  // before may see it vanish and fail with io_error; its client retries.
  void remove_empty_dir() { (void)m_storage->remove(layout::blob_dir(m_digest)); }

  std::shared_ptr<Storage> m_storage;
  std::unique_ptr<WriteFile> m_file;
  Digest m_digest;
  Hasher m_hasher;
  std::string m_link_path;
};

}  // namespace

Status RegistryImpl::require_linked(std::string_view repo, const Digest& digest) {
  auto linked = refresh_link(layout::layer_link(repo, digest), Refresh::best_effort);
  if (!linked) {
    return std::unexpected(linked.error());
  }
  if (!*linked) {
    auto manifest = exists(layout::revision_link(repo, digest));
    if (!manifest) {
      return std::unexpected(manifest.error());
    }
    if (!*manifest) {
      return fail(Errc::blob_unknown, "blob " + digest.str() + " not in repository " + std::string(repo));
    }
  }
  return {};
}

Result<BlobInfo> RegistryImpl::stat_blob(std::string_view repo, const Digest& digest) {
  REGD_TRY(validate_repository(repo));
  REGD_TRY(require_linked(repo, digest));
  auto size = blob_size(digest);
  if (!size) {
    return std::unexpected(size.error());
  }
  return BlobInfo{digest, *size};
}

Result<std::unique_ptr<ReadFile>> RegistryImpl::open_blob(std::string_view repo, const Digest& digest) {
  REGD_TRY(validate_repository(repo));
  REGD_TRY(require_linked(repo, digest));
  return on_not_found(m_storage->open_read(layout::blob_data(digest)), Errc::blob_unknown, "blob " + digest.str());
}

std::optional<std::string> RegistryImpl::blob_url(const Digest& digest, std::chrono::seconds ttl) {
  return m_storage->presign_get(layout::blob_data(digest), ttl);
}

Status RegistryImpl::delete_blob(std::string_view repo, const Digest& digest) {
  REGD_TRY(validate_repository(repo));
  auto linked = exists(layout::layer_link(repo, digest));
  if (!linked) {
    return std::unexpected(linked.error());
  }
  if (!*linked) {
    return fail(Errc::blob_unknown, "blob " + digest.str() + " not in repository " + std::string(repo));
  }
  return m_storage->remove_all(layout::layer_dir(repo, digest));
}

Result<BlobInfo> RegistryImpl::mount_blob(std::string_view repo, const Digest& digest,
                                          std::optional<std::string_view> from) {
  REGD_TRY(validate_repository(repo));
  if (from) {
    REGD_TRY(validate_repository(*from));
    auto linked = refresh_link(layout::layer_link(*from, digest));
    if (!linked) {
      return std::unexpected(linked.error());
    }
    if (!*linked) {
      return fail(Errc::blob_unknown, "blob " + digest.str() + " not in repository " + std::string(*from));
    }
  }
  if (auto size = blob_size(digest); !size) {
    return std::unexpected(size.error());
  }
  // Link, then check again: the check that counts comes after GC can see the fresh link.
  REGD_TRY(ensure_link(layout::layer_link(repo, digest), digest));
  auto size = blob_size(digest);
  if (!size) {
    (void)m_storage->remove_all(layout::layer_dir(repo, digest));
    return std::unexpected(size.error());
  }
  return BlobInfo{digest, *size};
}

Result<std::unique_ptr<BlobWriter>> RegistryImpl::put_blob(std::string_view repo, const Digest& digest) {
  REGD_TRY(validate_repository(repo));
  auto present = exists(layout::blob_data(digest));
  if (!present) {
    return std::unexpected(present.error());
  }
  std::string link = layout::layer_link(repo, digest);
  if (*present) {
    // Link, then check again (see mount_blob); data gone meanwhile is simply written anew.
    REGD_TRY(ensure_link(link, digest));
    present = exists(layout::blob_data(digest));
    if (!present) {
      return std::unexpected(present.error());
    }
  }
  if (*present) {
    return nullptr;
  }
  auto file = m_storage->create(layout::blob_data(digest));
  if (!file) {
    return std::unexpected(file.error());
  }
  return std::make_unique<BlobWriterImpl>(m_storage, std::move(*file), digest, std::move(link));
}

}  // namespace regd
