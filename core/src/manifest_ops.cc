#include "layout.h"
#include "regd/manifest.h"
#include "regd/reference.h"
#include "registry_impl.h"

namespace regd {

namespace {

struct ParsedReference {
  std::optional<Digest> digest;
  std::string tag;  // set when digest is not
};

Result<ParsedReference> parse_reference(std::string_view reference) {
  // Tags never contain ':', digests always do.
  if (reference.find(':') != std::string_view::npos) {
    auto digest = Digest::parse(reference);
    if (!digest) {
      return std::unexpected(digest.error());
    }
    return ParsedReference{*digest, {}};
  }
  REGD_TRY(validate_tag(reference));
  return ParsedReference{std::nullopt, std::string(reference)};
}

}  // namespace

Status RegistryImpl::check_blob_reference(std::string_view repo, const Descriptor& descriptor) {
  // Refresh before checking: from here on GC sees the link as fresh and leaves the blob alone.
  auto linked = refresh_link(layout::layer_link(repo, descriptor.digest));
  if (!linked) {
    return std::unexpected(linked.error());
  }
  auto present = exists(layout::blob_data(descriptor.digest));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*linked || !*present) {
    return fail(Errc::manifest_blob_unknown, "blob " + descriptor.digest.str() + " is not in " + std::string(repo));
  }
  return {};
}

Status RegistryImpl::check_references(std::string_view repo, const ParsedManifest& parsed) {
  if (parsed.config) {
    REGD_TRY(check_blob_reference(repo, *parsed.config));
  }
  for (const Descriptor& layer : parsed.layers) {
    if (!is_foreign_layer(layer)) {
      REGD_TRY(check_blob_reference(repo, layer));
    }
  }
  for (const Descriptor& child : parsed.manifests) {
    auto present = refresh_link(layout::revision_link(repo, child.digest));
    if (!present) {
      return std::unexpected(present.error());
    }
    if (!*present) {
      return fail(Errc::manifest_blob_unknown, "manifest " + child.digest.str() + " is not in " + std::string(repo));
    }
  }
  return {};
}

// Data first, links after: a crash leaves at most unreferenced data (GC collects it) or a
// referrers entry without its revision link (ignored by readers), never a revision link without
// data. The data is checked again once GC can see the fresh revision link: a sweep that parked it
// in its trash between the two steps either puts it back on its re-check or is seen here.
// A re-push of stored data only refreshes links that exist (a link's path names its digest, so
// an existing one is already right): a stat instead of a synced write, with the same guarantee
// towards GC as any refreshed link. New data gets its links written without looking first.
Result<bool> RegistryImpl::store_manifest(std::string_view repo, const Digest& digest, std::string_view content,
                                          const ParsedManifest& parsed) {
  auto stored = ensure_manifest_data(digest, content);
  if (!stored) {
    return std::unexpected(stored.error());
  }
  auto link = [&](const std::string& path) { return *stored ? ensure_link(path, digest) : write_link(path, digest); };
  if (parsed.subject) {
    REGD_TRY(link(layout::referrer_link(repo, parsed.subject->digest, digest)));
  }
  bool had_revision = false;
  if (*stored) {
    auto present = refresh_link(layout::revision_link(repo, digest));
    if (!present) {
      return std::unexpected(present.error());
    }
    had_revision = *present;
  }
  if (!had_revision) {
    REGD_TRY(write_link(layout::revision_link(repo, digest), digest));
  }
  if (auto again = ensure_manifest_data(digest, content); !again) {
    return std::unexpected(again.error());
  }
  return had_revision;
}

Result<bool> RegistryImpl::ensure_manifest_data(const Digest& digest, std::string_view content) {
  auto present = exists(layout::blob_data(digest));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (*present) {
    return true;
  }
  REGD_TRY(m_storage->write_file(layout::blob_data(digest), content));
  return false;
}

Result<ManifestPutResult> RegistryImpl::put_manifest(std::string_view repo, std::string_view reference,
                                                     std::string_view content_type, std::string_view content,
                                                     const std::vector<std::string>& tags) {
  return write_manifest(repo, reference, content_type, content, tags, References::required);
}

Result<ManifestPutResult> RegistryImpl::cache_manifest(std::string_view repo, std::string_view reference,
                                                       std::string_view content_type, std::string_view content) {
  return write_manifest(repo, reference, content_type, content, {}, References::fetched_later);
}

Result<ManifestPutResult> RegistryImpl::write_manifest(std::string_view repo, std::string_view reference,
                                                       std::string_view content_type, std::string_view content,
                                                       const std::vector<std::string>& tags, References references) {
  REGD_TRY(validate_repository(repo));
  if (content.size() > m_options.max_manifest_size) {
    return fail(Errc::too_large, "manifest of " + std::to_string(content.size()) + " bytes exceeds the limit of " +
                                     std::to_string(m_options.max_manifest_size));
  }
  auto ref = parse_reference(reference);
  if (!ref) {
    return std::unexpected(ref.error());
  }
  for (const std::string& tag : tags) {
    REGD_TRY(validate_tag(tag));
  }
  auto parsed = parse_manifest(content_type, content);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  Digest digest = digest_of(content, ref->digest ? ref->digest->algorithm() : DigestAlgorithm::sha256);
  if (ref->digest && *ref->digest != digest) {
    return fail(Errc::digest_invalid, "manifest content is " + digest.str() + ", not " + ref->digest->str());
  }
  // Every tag is checked before anything is stored: a refused push leaves no trace.
  if (!ref->digest) {
    REGD_TRY(check_tag_change(repo, ref->tag, digest));
  }
  for (const std::string& tag : tags) {
    REGD_TRY(check_tag_change(repo, tag, digest));
  }
  if (references == References::required) {
    REGD_TRY(check_references(repo, *parsed));
  }
  auto had_revision = store_manifest(repo, digest, content, *parsed);
  if (!had_revision) {
    return std::unexpected(had_revision.error());
  }
  if (!ref->digest) {
    REGD_TRY(write_tag(repo, ref->tag, digest, *had_revision));
  }
  for (const std::string& tag : tags) {
    REGD_TRY(write_tag(repo, tag, digest, *had_revision));
  }
  return ManifestPutResult{digest, parsed->subject ? std::optional<Digest>(parsed->subject->digest) : std::nullopt,
                           tags};
}

Result<Digest> RegistryImpl::resolve(std::string_view repo, std::string_view reference) {
  auto ref = parse_reference(reference);
  if (!ref) {
    return std::unexpected(ref.error());
  }
  if (!ref->digest) {
    auto target = on_not_found(read_link(layout::tag_current_link(repo, ref->tag)), Errc::manifest_unknown,
                               "tag " + ref->tag + " not in repository " + std::string(repo));
    if (!target) {
      return std::unexpected(target.error());
    }
    ref->digest = *target;
  }
  auto present = exists(layout::revision_link(repo, *ref->digest));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*present) {
    return fail(Errc::manifest_unknown, "manifest " + ref->digest->str() + " not in repository " + std::string(repo));
  }
  return *ref->digest;
}

Result<std::string> RegistryImpl::read_manifest_blob(const Digest& digest) {
  return on_not_found(m_storage->read(layout::blob_data(digest), m_options.max_manifest_size), Errc::manifest_unknown,
                      "manifest " + digest.str() + ": data missing");
}

std::shared_ptr<const ManifestSummary> RegistryImpl::summary_of(const Digest& digest, std::string_view content) {
  if (auto cached = m_manifest_cache->find(digest)) {
    return cached;
  }
  auto summary = std::make_shared<const ManifestSummary>(summarize_manifest(content));
  m_manifest_cache->insert(digest, summary);
  return summary;
}

Result<std::shared_ptr<const ManifestSummary>> RegistryImpl::stored_summary(const Digest& digest) {
  if (auto cached = m_manifest_cache->find(digest)) {
    auto present = exists(layout::blob_data(digest));
    if (!present) {
      return std::unexpected(present.error());
    }
    if (!*present) {
      return fail(Errc::manifest_unknown, "manifest " + digest.str() + ": data missing");
    }
    return cached;
  }
  auto content = read_manifest_blob(digest);
  if (!content) {
    return std::unexpected(content.error());
  }
  return summary_of(digest, *content);
}

Result<Manifest> RegistryImpl::get_manifest(std::string_view repo, std::string_view reference) {
  REGD_TRY(validate_repository(repo));
  auto digest = resolve(repo, reference);
  if (!digest) {
    if (digest.error().code == Errc::manifest_unknown) {
      REGD_TRY(require_repo(repo));
    }
    return std::unexpected(digest.error());
  }
  // The links were just read; the content they name is immutable.
  if (auto cached = m_manifest_cache->find(*digest)) {
    return Manifest{*digest, cached->media_type, cached->content};
  }
  auto content = read_manifest_blob(*digest);
  if (!content) {
    return std::unexpected(content.error());
  }
  std::string type = summary_of(*digest, *content)->media_type;
  return Manifest{*digest, std::move(type), std::move(*content)};
}

Status RegistryImpl::delete_manifest(std::string_view repo, const Digest& digest) {
  REGD_TRY(validate_repository(repo));
  auto present = exists(layout::revision_link(repo, digest));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*present) {
    return fail(Errc::manifest_unknown, "manifest " + digest.str() + " not in repository " + std::string(repo));
  }
  REGD_TRY(check_tags_pointing_to(repo, digest));
  REGD_TRY(remove_tags_pointing_to(repo, digest));
  if (auto summary = stored_summary(digest); summary && (*summary)->subject) {
    REGD_TRY(m_storage->remove_all(layout::referrer_dir(repo, *(*summary)->subject, digest)));
  }
  // The revision link goes last, so that a failed delete can be retried.
  return m_storage->remove_all(layout::revision_dir(repo, digest));
}

}  // namespace regd
