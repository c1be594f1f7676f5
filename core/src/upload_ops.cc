#include "layout.h"
#include "regd/reference.h"
#include "registry_impl.h"

namespace regd {

namespace {

constexpr size_t k_max_started_at_size = 64;
// Go's sha512 MarshalBinary is 204 bytes; anything larger is not a hash state.
constexpr size_t k_max_hash_state_size = 512;

std::string upload_name(std::string_view id) {
  return "upload " + std::string(id);
}

}  // namespace

Status RegistryImpl::check_upload(std::string_view repo, std::string_view id) {
  REGD_TRY(validate_repository(repo));
  // Never build a path from an id we did not mint.
  if (!layout::is_upload_id(id)) {
    return fail(Errc::upload_unknown, "upload id '" + std::string(id) + "' is not a UUID");
  }
  auto present = exists(layout::upload_started_at(repo, id));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*present) {
    return fail(Errc::upload_unknown, upload_name(id) + " not in repository " + std::string(repo));
  }
  return {};
}

Result<std::unique_ptr<Lock>> RegistryImpl::lock_upload(std::string_view repo, std::string_view id) {
  auto lock = m_storage->lock(layout::upload_lock(repo, id), false);
  if (!lock) {
    if (lock.error().code == Errc::conflict) {
      return fail(Errc::conflict, upload_name(id) + " is in use by another request");
    }
    return std::unexpected(lock.error());
  }
  // The session may have been finished or cancelled between our check and the lock, and
  // taking the lock re-created its directory: remove that stray directory again.
  auto present = exists(layout::upload_started_at(repo, id));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*present) {
    lock->reset();
    REGD_TRY(m_storage->remove_all(layout::upload_dir(repo, id)));
    return fail(Errc::upload_unknown, upload_name(id) + " not in repository " + std::string(repo));
  }
  return lock;
}

Result<Clock::time_point> RegistryImpl::read_started_at(std::string_view repo, std::string_view id) {
  std::string path = layout::upload_started_at(repo, id);
  auto text = on_not_found(m_storage->read(path, k_max_started_at_size), Errc::upload_unknown, upload_name(id));
  if (!text) {
    return std::unexpected(text.error());
  }
  auto time = layout::parse_time(*text);
  if (time) {
    return *time;
  }
  // A foreign writer's format: the file's own mtime is the same instant.
  auto info = on_not_found(m_storage->stat(path), Errc::upload_unknown, upload_name(id));
  if (!info) {
    return std::unexpected(info.error());
  }
  return info->mtime;
}

Result<uint64_t> RegistryImpl::upload_size(std::string_view repo, std::string_view id) {
  auto info = m_storage->stat(layout::upload_data(repo, id));
  if (!info) {
    if (info.error().code == Errc::not_found) {
      return 0;
    }
    return std::unexpected(info.error());
  }
  return info->size;
}

Result<DigestAlgorithm> RegistryImpl::upload_algorithm(std::string_view repo, std::string_view id) {
  auto sha512 = exists(layout::upload_hash_state(repo, id, DigestAlgorithm::sha512, 0));
  if (!sha512) {
    return std::unexpected(sha512.error());
  }
  return *sha512 ? DigestAlgorithm::sha512 : DigestAlgorithm::sha256;
}

Result<Hasher> RegistryImpl::load_hasher(std::string_view repo, std::string_view id, DigestAlgorithm algorithm,
                                         uint64_t size) {
  auto state = m_storage->read(layout::upload_hash_state(repo, id, algorithm, size), k_max_hash_state_size);
  if (state) {
    auto hasher = Hasher::import_state(algorithm, *state);
    if (hasher && hasher->size() == size) {
      return std::move(*hasher);
    }
  } else if (state.error().code != Errc::not_found) {
    return std::unexpected(state.error());
  }
  // A missing or unusable state only costs a re-hash.
  Hasher hasher(algorithm);
  if (size > 0) {
    REGD_TRY(hash_file_prefix(*m_storage, layout::upload_data(repo, id), size, hasher));
  }
  return hasher;
}

// The session is assembled under a temp name and published by one rename: readers and GC see
// it complete or not at all (a crash leaves a hidden temp directory that GC removes).
// A session hashed with another algorithm than sha256 starts with that algorithm's empty hash
// state at offset 0, which is how every later request (on any instance) knows the algorithm.
Result<UploadStatus> RegistryImpl::start_upload(std::string_view repo, DigestAlgorithm algorithm) {
  REGD_TRY(validate_repository(repo));
  std::string id = layout::new_upload_id();
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(Clock::now());
  std::string temp = layout::upload_temp_dir(repo, id);
  Status made = m_storage->write_file(temp + "/startedat", layout::format_time(now));
  if (made) {
    made = m_storage->write_file(temp + "/data", "");
  }
  if (made && algorithm != DigestAlgorithm::sha256) {
    made = m_storage->write_file(temp + "/hashstates/" + std::string(algorithm_name(algorithm)) + "/0",
                                 Hasher(algorithm).export_state());
  }
  if (made) {
    made = m_storage->rename(temp, layout::upload_dir(repo, id));
  }
  if (!made) {
    (void)m_storage->remove_all(temp);
    return std::unexpected(made.error());
  }
  return UploadStatus{id, 0, now};
}

Result<size_t> RegistryImpl::count_uploads(std::string_view repo) {
  REGD_TRY(validate_repository(repo));
  size_t count = 0;
  Status listed = m_storage->list(layout::uploads_root(repo), [&](const DirEntry& entry) -> Status {
    if (entry.type == EntryType::directory && layout::is_upload_id(entry.name)) {
      ++count;
    }
    return {};
  });
  if (!listed && listed.error().code != Errc::not_found) {
    return std::unexpected(listed.error());
  }
  return count;
}

Result<UploadStatus> RegistryImpl::upload_status(std::string_view repo, std::string_view id) {
  REGD_TRY(check_upload(repo, id));
  auto started = read_started_at(repo, id);
  if (!started) {
    return std::unexpected(started.error());
  }
  auto size = upload_size(repo, id);
  if (!size) {
    return std::unexpected(size.error());
  }
  return UploadStatus{std::string(id), *size, *started};
}

Result<BlobInfo> RegistryImpl::finish_upload(std::string_view repo, std::string_view id, const Digest& digest) {
  REGD_TRY(check_upload(repo, id));
  auto lock = lock_upload(repo, id);
  if (!lock) {
    return std::unexpected(lock.error());
  }
  auto size = upload_size(repo, id);
  if (!size) {
    return std::unexpected(size.error());
  }
  auto hasher = load_hasher(repo, id, digest.algorithm(), *size);
  if (!hasher) {
    return std::unexpected(hasher.error());
  }
  if (Digest actual = hasher->digest(); actual != digest) {
    return fail(Errc::digest_invalid, upload_name(id) + ": content is " + actual.str() + ", not " + digest.str());
  }
  return complete_upload(repo, id, digest, *size);
}

Result<BlobInfo> RegistryImpl::complete_upload(std::string_view repo, std::string_view id, const Digest& digest,
                                               uint64_t size) {
  // Link first, then look for existing data: a GC that parks the data in its trash after this
  // check sees the fresh link when it re-checks and puts it back (docs/gc.md). A link without
  // data is invisible (stat_blob checks both), and until startedat goes the session is complete
  // and a retried PUT finds it as it was.
  REGD_TRY(ensure_link(layout::layer_link(repo, digest), digest));
  auto present = exists(layout::blob_data(digest));
  if (!present) {
    return std::unexpected(present.error());
  }
  auto started = read_started_at(repo, id);
  if (!started) {
    return std::unexpected(started.error());
  }
  // Unpublish before moving the data: a crash after this point leaves a session a retry reports
  // as unknown (the client starts over), never one that answers digest_invalid for lack of data.
  REGD_TRY(m_storage->remove(layout::upload_started_at(repo, id)));
  if (!*present) {
    auto moved = m_storage->rename(layout::upload_data(repo, id), layout::blob_data(digest));
    if (!moved && moved.error().code == Errc::not_found && size == 0) {
      moved = m_storage->write_file(layout::blob_data(digest), "");
    }
    if (!moved) {
      // Publish the session again so that the client may retry.
      (void)m_storage->write_file(layout::upload_started_at(repo, id), layout::format_time(*started));
      return std::unexpected(moved.error());
    }
  }
  REGD_TRY(m_storage->remove_all(layout::upload_dir(repo, id)));
  return BlobInfo{digest, size};
}

Status RegistryImpl::remove_upload(std::string_view repo, std::string_view id) {
  auto removed = m_storage->remove(layout::upload_started_at(repo, id));
  if (!removed && removed.error().code != Errc::not_found) {
    return removed;
  }
  return m_storage->remove_all(layout::upload_dir(repo, id));
}

Status RegistryImpl::cancel_upload(std::string_view repo, std::string_view id) {
  REGD_TRY(check_upload(repo, id));
  auto lock = lock_upload(repo, id);
  if (!lock) {
    return std::unexpected(lock.error());
  }
  return remove_upload(repo, id);
}

}  // namespace regd
