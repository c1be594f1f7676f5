#include "layout.h"
#include "registry_impl.h"

namespace regd {

namespace {

// Appends one chunk under the session lock, hashing as it goes. close() makes the chunk durable
// and stores the hash state at the new size; without close() the chunk is cut off again.
class UploadWriterImpl final : public UploadWriter {
 public:
  UploadWriterImpl(RegistryImpl& registry, std::shared_ptr<Storage> storage, std::unique_ptr<Lock> lock,
                   std::unique_ptr<AppendFile> file, Hasher hasher, std::string repo, UploadStatus status)
      : m_registry(registry),
        m_storage(std::move(storage)),
        m_lock(std::move(lock)),
        m_file(std::move(file)),
        m_hasher(std::move(hasher)),
        m_repo(std::move(repo)),
        m_status(std::move(status)),
        m_start(m_status.size) {}

  ~UploadWriterImpl() override {
    if (m_file) {
      // Best effort: the next request sees the size anyway and must match it.
      (void)m_file->truncate(m_start);
    }
  }

  Status store(std::span<const char> data) override {
    REGD_TRY(usable());
    if (auto appended = m_file->append(data); !appended) {
      m_failed = true;
      return appended;
    }
    return {};
  }
  void hash(std::span<const char> data) override { m_hasher.update(data); }

  uint64_t size() const override { return m_hasher.size(); }

  Result<BlobInfo> commit(const Digest& digest) override {
    REGD_TRY(usable());
    REGD_TRY(m_file->sync());
    uint64_t size = m_hasher.size();
    Digest actual = m_hasher.digest();
    if (digest.algorithm() != m_hasher.algorithm()) {
      Hasher other(digest.algorithm());
      REGD_TRY(hash_file_prefix(*m_storage, layout::upload_data(m_repo, m_status.id), size, other));
      actual = other.digest();
    }
    if (actual != digest) {
      // m_file stays set: the destructor cuts this chunk off again.
      return fail(Errc::digest_invalid,
                  "upload " + m_status.id + ": content is " + actual.str() + ", not " + digest.str());
    }
    m_file.reset();
    auto done = m_registry.complete_upload(m_repo, m_status.id, digest, size);
    m_lock.reset();
    return done;
  }

  Result<UploadStatus> close() override {
    REGD_TRY(usable());
    REGD_TRY(m_file->sync());
    m_status.size = m_hasher.size();
    // The chunk is durable now; a state that fails to persist only costs a re-hash later.
    (void)m_storage->write_file(layout::upload_hash_state(m_repo, m_status.id, m_hasher.algorithm(), m_status.size),
                                m_hasher.export_state());
    m_file.reset();
    m_lock.reset();
    return m_status;
  }

 private:
  Status usable() const {
    if (!m_file || m_failed) {
      return fail(Errc::invalid_argument, "upload " + m_status.id + ": writer closed or failed");
    }
    return {};
  }

  RegistryImpl& m_registry;  // outlives its writers (registry.h)
  std::shared_ptr<Storage> m_storage;
  std::unique_ptr<Lock> m_lock;  // declared before m_file: released after the truncation
  std::unique_ptr<AppendFile> m_file;
  Hasher m_hasher;
  std::string m_repo;
  UploadStatus m_status;
  uint64_t m_start = 0;
  bool m_failed = false;
};

}  // namespace

Result<std::unique_ptr<UploadWriter>> RegistryImpl::append_upload(std::string_view repo, std::string_view id,
                                                                  std::optional<uint64_t> offset) {
  REGD_TRY(check_upload(repo, id));
  auto lock = lock_upload(repo, id);
  if (!lock) {
    return std::unexpected(lock.error());
  }
  auto started = read_started_at(repo, id);
  if (!started) {
    return std::unexpected(started.error());
  }
  // Opened after the lock: on NFS the lock revalidates the attributes the size comes from.
  auto file = m_storage->open_append(layout::upload_data(repo, id), true);
  if (!file) {
    return std::unexpected(file.error());
  }
  uint64_t size = (*file)->size();
  if (offset && *offset != size) {
    return fail(Errc::range_invalid, "upload " + std::string(id) + ": offset " + std::to_string(*offset) +
                                         " does not match the current size " + std::to_string(size));
  }
  auto algorithm = upload_algorithm(repo, id);
  if (!algorithm) {
    return std::unexpected(algorithm.error());
  }
  auto hasher = load_hasher(repo, id, *algorithm, size);
  if (!hasher) {
    return std::unexpected(hasher.error());
  }
  return std::make_unique<UploadWriterImpl>(*this, m_storage, std::move(*lock), std::move(*file), std::move(*hasher),
                                            std::string(repo), UploadStatus{std::string(id), size, *started});
}

}  // namespace regd
