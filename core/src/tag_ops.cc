#include "layout.h"
#include "regd/reference.h"
#include "registry_impl.h"

namespace regd {

Status RegistryImpl::write_tag(std::string_view repo, std::string_view tag, const Digest& digest, bool known_revision) {
  // current first: a tag directory then always has a current link. Atomic rename: last writer
  // wins. Always written, even unchanged: its time is the tag's push time (retention).
  REGD_TRY(write_link(layout::tag_current_link(repo, tag), digest));
  // The index is history: its link names its digest, so an existing one is already right.
  auto index = layout::tag_index_link(repo, tag, digest);
  return known_revision ? ensure_link(index, digest) : write_link(index, digest);
}

Status RegistryImpl::check_tag_change(std::string_view repo, std::string_view tag,
                                      const std::optional<Digest>& digest) {
  if (!tag_matches_any(tag, m_options.immutable_tags)) {
    return {};
  }
  auto current = read_link(layout::tag_current_link(repo, tag));
  if (!current) {
    // A missing tag may be created; an unreadable one must not be overwritten blindly.
    return current.error().code == Errc::not_found ? Status{} : Status(std::unexpected(current.error()));
  }
  if (digest && *current == *digest) {
    return {};
  }
  std::string action = digest ? "cannot move to " + digest->str() : std::string("cannot be deleted");
  return fail(Errc::immutable, "tag " + std::string(tag) + " in repository " + std::string(repo) +
                                   " is immutable (it points at " + current->str() + "): " + action);
}

Status RegistryImpl::check_tags_pointing_to(std::string_view repo, const Digest& digest) {
  if (m_options.immutable_tags.empty()) {
    return {};
  }
  auto listed = m_storage->list(layout::tags_dir(repo), [&](const DirEntry& entry) -> Status {
    if (entry.type == EntryType::file || !validate_tag(entry.name)) {
      return {};
    }
    auto target = read_link(layout::tag_current_link(repo, entry.name));
    if (target && *target == digest) {
      return check_tag_change(repo, entry.name, std::nullopt);
    }
    return {};
  });
  if (!listed && listed.error().code != Errc::not_found) {
    return listed;
  }
  return {};
}

Status RegistryImpl::remove_tags_pointing_to(std::string_view repo, const Digest& digest) {
  std::vector<std::string> doomed;
  auto listed = m_storage->list(layout::tags_dir(repo), [&](const DirEntry& entry) -> Status {
    if (entry.type == EntryType::file || !validate_tag(entry.name)) {
      return {};
    }
    auto target = read_link(layout::tag_current_link(repo, entry.name));
    if (target && *target == digest) {
      doomed.push_back(entry.name);
    } else if (!target && target.error().code != Errc::not_found && target.error().code != Errc::corrupt) {
      return std::unexpected(target.error());
    }
    return {};
  });
  if (!listed && listed.error().code != Errc::not_found) {
    return listed;
  }
  for (const std::string& tag : doomed) {
    REGD_TRY(remove_tag(repo, tag));
  }
  return {};
}

Status RegistryImpl::remove_tag(std::string_view repo, std::string_view tag) {
  // The current link first: the tag vanishes at once, and a crash leaves only a directory that
  // readers skip and GC removes.
  auto removed = m_storage->remove(layout::tag_current_link(repo, tag));
  if (!removed && removed.error().code != Errc::not_found) {
    return removed;
  }
  return m_storage->remove_all(layout::tag_dir(repo, tag));
}

Status RegistryImpl::delete_tag(std::string_view repo, std::string_view tag) {
  REGD_TRY(validate_repository(repo));
  REGD_TRY(validate_tag(tag));
  auto present = exists(layout::tag_current_link(repo, tag));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*present) {
    return fail(Errc::manifest_unknown, "tag " + std::string(tag) + " not in repository " + std::string(repo));
  }
  REGD_TRY(check_tag_change(repo, tag, std::nullopt));
  return remove_tag(repo, tag);
}

Status RegistryImpl::set_tag(std::string_view repo, std::string_view tag, const Digest& digest) {
  REGD_TRY(validate_repository(repo));
  REGD_TRY(validate_tag(tag));
  auto present = exists(layout::revision_link(repo, digest));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*present) {
    return fail(Errc::manifest_unknown, "manifest " + digest.str() + " not in repository " + std::string(repo));
  }
  REGD_TRY(check_tag_change(repo, tag, digest));
  return write_tag(repo, tag, digest, true);
}

// The current link's mtime is the validation mark: every write of the tag renames a fresh link
// into place and a successful revalidation touches it, so no other file is needed.
Result<Clock::time_point> RegistryImpl::tag_validated_at(std::string_view repo, std::string_view tag) {
  REGD_TRY(validate_repository(repo));
  REGD_TRY(validate_tag(tag));
  auto info = on_not_found(m_storage->stat(layout::tag_current_link(repo, tag)), Errc::manifest_unknown,
                           "tag " + std::string(tag) + " not in repository " + std::string(repo));
  if (!info) {
    return std::unexpected(info.error());
  }
  return info->mtime;
}

Status RegistryImpl::mark_tag_validated(std::string_view repo, std::string_view tag) {
  REGD_TRY(validate_repository(repo));
  REGD_TRY(validate_tag(tag));
  return on_not_found(m_storage->touch(layout::tag_current_link(repo, tag)), Errc::manifest_unknown,
                      "tag " + std::string(tag) + " not in repository " + std::string(repo));
}

}  // namespace regd
