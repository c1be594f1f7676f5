// ImageCopier (regd/remote_copy.h): children before parents, only what the destination lacks.
#include "regd/remote_copy.h"

#include "regd/manifest.h"
#include "try.h"

namespace regd::sync {

Result<Descriptor> ImageCopier::copy(std::string_view reference, std::string_view tag) {
  auto top = copy_manifest(reference);
  if (!top || tag.empty()) {
    return top;
  }
  auto tagged = m_to.has_manifest(tag, top->digest);
  if (!tagged) {
    return std::unexpected(tagged.error());
  }
  if (!*tagged) {
    auto manifest = m_from.get_manifest(top->digest.str());
    if (!manifest) {
      return std::unexpected(manifest.error());
    }
    REGD_TRY(m_to.put_manifest(tag, *manifest));
  }
  return top;
}

Result<Descriptor> ImageCopier::copy_manifest(std::string_view reference) {
  auto manifest = m_from.get_manifest(reference);
  if (!manifest) {
    return std::unexpected(manifest.error());
  }
  Descriptor self = manifest->descriptor();
  if (m_done.contains(self.digest)) {
    return self;
  }
  auto present = m_to.has_manifest(self.digest.str(), self.digest);
  if (!present) {
    return std::unexpected(present.error());
  }
  if (*present) {
    // Stored manifests have everything below them (registries refuse them otherwise).
    ++m_stats.manifests_present;
  } else {
    REGD_TRY(copy_children(*manifest));
    if (auto ok = m_to.put_manifest(self.digest.str(), *manifest); !ok) {
      return fail(ok.error().code, m_to.name() + "@" + self.digest.str() + ": " + ok.error().message);
    }
    ++m_stats.manifests_copied;
    m_progress.add_item();
  }
  m_done.insert(self.digest);
  if (m_options.referrers) {
    REGD_TRY(copy_referrers(self.digest));
  }
  return self;
}

Status ImageCopier::copy_children(const Manifest& manifest) {
  auto parsed = parse_manifest(manifest.media_type, manifest.content);
  if (!parsed) {
    return fail(parsed.error().code, m_from.name() + "@" + manifest.digest.str() + ": " + parsed.error().message);
  }
  for (const auto& child : parsed->manifests) {
    REGD_TRY(copy_manifest(child.digest.str()));
  }
  if (parsed->config) {
    REGD_TRY(copy_blob(*parsed->config, manifest.digest));
  }
  for (const auto& layer : parsed->layers) {
    REGD_TRY(copy_blob(layer, manifest.digest));
  }
  return {};
}

Status ImageCopier::copy_blob(const Descriptor& blob, const Digest& manifest) {
  if (m_done.contains(blob.digest)) {
    return {};
  }
  bool mounted = false;
  auto present = m_to.has_blob(blob, m_options.mount_from, mounted);
  if (!present) {
    return std::unexpected(present.error());
  }
  if (*present) {
    ++(mounted ? m_stats.blobs_mounted : m_stats.blobs_present);
  } else if (auto ok = m_to.write_blob(blob, m_from, m_progress); !ok) {
    if (ok.error().code == Errc::blob_unknown && is_foreign_layer(blob)) {
      return {};  // a non-distributable layer: neither end needs to hold it
    }
    return fail(ok.error().code, "blob " + blob.digest.str() + " of " + m_from.name() + "@" + manifest.str() + ": " +
                                     ok.error().message);
  } else {
    ++m_stats.blobs_copied;
    m_stats.bytes_copied += blob.size;
    m_progress.add_item();
  }
  m_done.insert(blob.digest);
  return {};
}

Status ImageCopier::copy_referrers(const Digest& subject) {
  auto referrers = m_from.referrers(subject);
  if (!referrers) {
    return std::unexpected(referrers.error());
  }
  for (const auto& referrer : *referrers) {
    if (!m_done.contains(referrer.digest)) {
      REGD_TRY(copy_manifest(referrer.digest.str()));
    }
  }
  return {};
}

}  // namespace regd::sync
