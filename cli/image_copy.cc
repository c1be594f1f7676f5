#include "image_copy.h"

#include <vector>

#include "context.h"
#include "regd/manifest.h"
#include "regd/remote_copy.h"

namespace regd::cli {

const Descriptor* Pusher::find_in_layout(const Digest& digest) const {
  for (const auto& entry : m_layout.entries()) {
    if (entry.digest == digest) {
      return &entry;
    }
  }
  return nullptr;
}

Status Pusher::push(const Descriptor& manifest) {
  if (m_done.contains(manifest.digest)) {
    return {};
  }
  auto content = m_layout.read_blob(manifest, k_max_manifest_size);
  if (!content) {
    if (content.error().code == Errc::not_found && m_registry.get_manifest(m_repo, manifest.digest.str())) {
      m_done.insert(manifest.digest);  // the layout lacks it, the repository has it already
      return {};
    }
    return std::unexpected(content.error());
  }
  if (auto ok = push_children(manifest, *content); !ok) {
    return ok;
  }
  auto put = m_registry.put_manifest(m_repo, manifest.digest.str(), manifest.media_type, *content);
  if (!put) {
    return fail(put.error().code, "manifest " + manifest.digest.str() + ": " + put.error().message);
  }
  m_done.insert(manifest.digest);
  ++m_stats.manifests;
  m_progress.add_item();
  return {};
}

Status Pusher::push_children(const Descriptor& manifest, std::string_view content) {
  auto parsed = parse_manifest(manifest.media_type, content);
  if (!parsed) {
    return fail(parsed.error().code, "manifest " + manifest.digest.str() + ": " + parsed.error().message);
  }
  if (parsed->subject && m_layout.has_blob(parsed->subject->digest, parsed->subject->size)) {
    // The subject goes first so that the referrer's registration sees it.
    if (auto ok = push(*parsed->subject); !ok) {
      return ok;
    }
  }
  for (const auto& child : parsed->manifests) {
    if (auto ok = push(child); !ok) {
      return ok;
    }
  }
  std::vector<Descriptor> blobs;
  if (parsed->config) {
    blobs.push_back(*parsed->config);
  }
  blobs.insert(blobs.end(), parsed->layers.begin(), parsed->layers.end());
  for (const auto& blob : blobs) {
    if (is_foreign_layer(blob) && !m_layout.has_blob(blob.digest, blob.size)) {
      continue;
    }
    if (auto ok = push_blob(blob); !ok) {
      return ok;
    }
  }
  return {};
}

Status Pusher::push_blob(const Descriptor& blob) {
  if (m_done.contains(blob.digest)) {
    return {};
  }
  if (!m_layout.has_blob(blob.digest, blob.size)) {
    // Not in the layout (e.g. a layout that holds only what changed): any stored copy will do.
    auto mounted = m_registry.mount_blob(m_repo, blob.digest, std::nullopt);
    if (!mounted) {
      return fail(Errc::not_found,
                  "blob " + blob.digest.str() + " is neither in " + m_layout.dir().string() + " nor in the registry");
    }
    m_done.insert(blob.digest);
    ++m_stats.blobs_skipped;
    return {};
  }
  auto writer = m_registry.put_blob(m_repo, blob.digest);
  if (!writer) {
    return fail(writer.error().code, "blob " + blob.digest.str() + ": " + writer.error().message);
  }
  if (*writer == nullptr) {
    ++m_stats.blobs_skipped;
  } else if (auto ok = stream_blob(blob, **writer); !ok) {
    return ok;
  }
  m_done.insert(blob.digest);
  m_progress.add_item();
  return {};
}

Status Pusher::stream_blob(const Descriptor& blob, BlobWriter& writer) {
  auto reader = m_layout.open_blob(blob.digest);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  m_progress.expect(0, reader->size());
  auto read = reader->drain([&](std::span<const char> chunk) -> Status {
    REGD_CLI_TRY(writer.write(chunk));
    m_stats.bytes_copied += chunk.size();
    m_progress.add_bytes(chunk.size());
    return {};
  });
  if (!read) {
    return read;
  }
  auto committed = writer.commit();
  if (!committed) {
    return fail(committed.error().code, m_layout.blob_path(blob.digest).string() + ": " + committed.error().message);
  }
  ++m_stats.blobs_copied;
  return {};
}

Result<Descriptor> Puller::pull(std::string_view reference) {
  return pull_manifest(reference);
}

Result<Descriptor> Puller::pull_manifest(std::string_view reference) {
  auto manifest = m_registry.get_manifest(m_repo, reference);
  if (!manifest) {
    return std::unexpected(manifest.error());
  }
  Descriptor self = manifest->descriptor();
  if (m_done.contains(self.digest)) {
    return self;
  }
  if (digest_of(manifest->content, self.digest.algorithm()) != self.digest) {
    return fail(Errc::corrupt, m_repo + "@" + self.digest.str() + ": stored manifest does not match its digest");
  }
  auto parsed = parse_manifest(manifest->media_type, manifest->content);
  if (!parsed) {
    return fail(parsed.error().code, m_repo + "@" + self.digest.str() + ": " + parsed.error().message);
  }
  for (const auto& child : parsed->manifests) {
    if (auto ok = pull_manifest(child.digest.str()); !ok) {
      return ok;
    }
  }
  if (parsed->config) {
    if (auto ok = pull_blob(*parsed->config, "config", self.digest); !ok) {
      return std::unexpected(ok.error());
    }
  }
  for (const auto& layer : parsed->layers) {
    if (auto ok = pull_blob(layer, "layer", self.digest); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (!m_layout.has_blob(self.digest, self.size)) {
    if (auto ok = write_small_file(m_layout.blob_path(self.digest), manifest->content); !ok) {
      return std::unexpected(ok.error());
    }
    m_added.push_back(self.digest);
  }
  m_done.insert(self.digest);
  ++m_stats.manifests;
  m_progress.add_item();
  if (m_include_referrers) {
    REGD_CLI_TRY(pull_referrers(self.digest));
  }
  return self;
}

Status Puller::pull_referrers(const Digest& subject) {
  auto referrers = m_registry.list_referrers(m_repo, subject, std::nullopt);
  if (!referrers) {
    return std::unexpected(referrers.error());
  }
  for (const auto& referrer : *referrers) {
    if (m_done.contains(referrer.digest)) {
      continue;
    }
    REGD_CLI_TRY(pull_manifest(referrer.digest.str()));
    m_referrers.push_back(referrer);
  }
  return {};
}

Status Puller::pull_blob(const Descriptor& blob, std::string_view what, const Digest& manifest) {
  if (m_done.contains(blob.digest) || m_layout.has_blob(blob.digest, blob.size)) {
    ++m_stats.blobs_skipped;
    m_done.insert(blob.digest);
    return {};
  }
  auto reader = m_registry.open_blob(m_repo, blob.digest);
  if (!reader) {
    if (is_foreign_layer(blob)) {
      return {};
    }
    // Named as what it is: the manifest was found, one of the blobs it needs was not.
    return fail(reader.error().code,
                std::string(what) + " " + blob.digest.str() + " of manifest " + manifest.str() +
                    " is not in repository " + m_repo +
                    (reader.error().code == Errc::blob_unknown ? " (run regctl verify " + m_repo + ")"
                                                               : ": " + reader.error().message));
  }
  auto writer = m_layout.create_blob(blob.digest);
  if (!writer) {
    return std::unexpected(writer.error());
  }
  m_progress.expect(0, (*reader)->size());
  auto copied = sync::copy_verified(**reader, blob, m_repo, [&](std::span<const char> chunk) -> Status {
    m_progress.add_bytes(chunk.size());
    return writer->write(chunk);
  });
  if (!copied) {
    return copied;
  }
  if (auto ok = writer->commit(); !ok) {
    return ok;
  }
  m_added.push_back(blob.digest);
  m_done.insert(blob.digest);
  m_stats.bytes_copied += blob.size;
  ++m_stats.blobs_copied;
  m_progress.add_item();
  return {};
}

}  // namespace regd::cli

namespace regd::cli {

Result<Descriptor> RepoCopier::copy(std::string_view reference) {
  auto manifest = m_registry.get_manifest(m_from, reference);
  if (!manifest) {
    return std::unexpected(manifest.error());
  }
  Descriptor self = manifest->descriptor();
  if (m_done.contains(self.digest)) {
    return self;
  }
  auto parsed = parse_manifest(manifest->media_type, manifest->content);
  if (!parsed) {
    return fail(parsed.error().code, m_from + "@" + self.digest.str() + ": " + parsed.error().message);
  }
  for (const auto& child : parsed->manifests) {
    if (auto ok = copy(child.digest.str()); !ok) {
      return ok;
    }
  }
  if (parsed->config) {
    if (auto ok = mount(*parsed->config); !ok) {
      return std::unexpected(ok.error());
    }
  }
  for (const auto& layer : parsed->layers) {
    if (auto ok = mount(layer); !ok) {
      return std::unexpected(ok.error());
    }
  }
  auto put = m_registry.put_manifest(m_to, self.digest.str(), manifest->media_type, manifest->content);
  if (!put) {
    return fail(put.error().code, m_to + "@" + self.digest.str() + ": " + put.error().message);
  }
  m_done.insert(self.digest);
  ++m_stats.manifests;
  return self;
}

Status RepoCopier::mount(const Descriptor& blob) {
  if (m_done.contains(blob.digest)) {
    return {};
  }
  auto mounted = m_registry.mount_blob(m_to, blob.digest, std::string_view(m_from));
  if (!mounted) {
    if (is_foreign_layer(blob)) {
      return {};
    }
    return fail(mounted.error().code, m_from + "@" + blob.digest.str() + ": " + mounted.error().message);
  }
  m_done.insert(blob.digest);
  ++m_stats.blobs_skipped;
  return {};
}

}  // namespace regd::cli
