#include <algorithm>

#include "layout.h"
#include "regd/manifest.h"
#include "regd/reference.h"
#include "registry_impl.h"

namespace regd {

// The _referrers index is derived data: an entry counts only while its manifest still has a
// revision link and still names the subject, so a stale or half-written entry is harmless.
Result<std::optional<Descriptor>> RegistryImpl::referrer_descriptor(std::string_view repo, const Digest& digest,
                                                                    const Digest& subject) {
  auto linked = exists(layout::revision_link(repo, digest));
  if (!linked) {
    return std::unexpected(linked.error());
  }
  if (!*linked) {
    return std::nullopt;
  }
  auto summary = stored_summary(digest);
  if (!summary) {
    if (summary.error().code == Errc::manifest_unknown) {
      return std::nullopt;
    }
    return std::unexpected(summary.error());
  }
  const ManifestSummary& s = **summary;
  if (!s.valid || !s.subject || *s.subject != subject) {
    return std::nullopt;
  }
  return Descriptor{s.media_type, digest, s.size, s.artifact_type, s.annotations};
}

Result<std::vector<Descriptor>> RegistryImpl::list_referrers(std::string_view repo, const Digest& subject,
                                                             std::optional<std::string_view> artifact_type) {
  REGD_TRY(validate_repository(repo));
  std::vector<Descriptor> found;
  std::string dir = layout::referrers_subject_dir(repo, subject);
  REGD_TRY(for_each_digest_dir(*m_storage, dir, [&](const Digest& digest) -> Status {
    auto descriptor = referrer_descriptor(repo, digest, subject);
    if (!descriptor) {
      return std::unexpected(descriptor.error());
    }
    if (*descriptor && (!artifact_type || (*descriptor)->artifact_type == *artifact_type)) {
      found.push_back(std::move(**descriptor));
    }
    return {};
  }));
  std::sort(found.begin(), found.end(), [](const Descriptor& a, const Descriptor& b) { return a.digest < b.digest; });
  return found;
}

Status RegistryImpl::prune_referrers(std::string_view repo) {
  std::vector<std::string> stale;
  REGD_TRY(for_each_digest_dir(*m_storage, layout::referrers_dir(repo), [&](const Digest& subject) -> Status {
    std::string dir = layout::referrers_subject_dir(repo, subject);
    return for_each_digest_dir(*m_storage, dir, [&](const Digest& digest) -> Status {
      auto descriptor = referrer_descriptor(repo, digest, subject);
      if (!descriptor) {
        return std::unexpected(descriptor.error());
      }
      if (!*descriptor) {
        stale.push_back(layout::referrer_dir(repo, subject, digest));
      }
      return {};
    });
  }));
  for (const std::string& dir : stale) {
    REGD_TRY(m_storage->remove_all(dir));
  }
  return {};
}

// Adds missing entries, then drops stale ones. It never clears the index first, so a referrer
// pushed concurrently is never lost.
Status RegistryImpl::rebuild_referrers(std::string_view repo) {
  REGD_TRY(validate_repository(repo));
  auto manifests = list_manifests(repo);
  if (!manifests) {
    return std::unexpected(manifests.error());
  }
  for (const Digest& digest : *manifests) {
    auto summary = stored_summary(digest);
    if (!summary) {
      if (summary.error().code == Errc::manifest_unknown) {
        continue;
      }
      return std::unexpected(summary.error());
    }
    if ((*summary)->subject) {
      REGD_TRY(ensure_link(layout::referrer_link(repo, *(*summary)->subject, digest), digest));
    }
  }
  return prune_referrers(repo);
}

}  // namespace regd
