#include "registry_impl.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "layout.h"
#include "regd/reference.h"

namespace regd {

namespace {

constexpr size_t k_hash_buffer_size = 1 << 20;

}  // namespace

Status hash_file_prefix(Storage& storage, const std::string& path, uint64_t size, Hasher& hasher) {
  auto file = storage.open_read(path);
  if (!file) {
    return std::unexpected(file.error());
  }
  std::vector<char> buffer(k_hash_buffer_size);
  uint64_t offset = 0;
  while (offset < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - offset));
    auto got = (*file)->read_at(offset, std::span<char>(buffer.data(), want));
    if (!got) {
      return std::unexpected(got.error());
    }
    if (*got == 0) {
      return fail(Errc::corrupt, path + ": short read at " + std::to_string(offset) + " of " + std::to_string(size));
    }
    hasher.update(std::span<const char>(buffer.data(), *got));
    offset += *got;
  }
  return {};
}

Status for_each_digest_dir(Storage& storage, const std::string& dir,
                           const std::function<Status(const Digest&)>& visit) {
  for (DigestAlgorithm algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
    std::string prefix = std::string(algorithm_name(algorithm)) + ":";
    auto listed = storage.list(dir + "/" + prefix.substr(0, prefix.size() - 1), [&](const DirEntry& entry) -> Status {
      auto digest = Digest::parse(prefix + entry.name);
      if (!digest || entry.type != EntryType::directory) {
        return {};
      }
      return visit(*digest);
    });
    if (!listed && listed.error().code != Errc::not_found) {
      return listed;
    }
  }
  return {};
}

Result<bool> holds_manifest(Storage& storage, std::string_view repo) {
  bool found = false;
  // The first revision link found ends the listing: cost bounded whatever the repository holds.
  auto listed = for_each_digest_dir(storage, layout::revisions_root(repo), [&](const Digest& digest) -> Status {
    auto info = storage.stat(layout::revision_link(repo, digest));
    if (info) {
      found = true;
      return fail(Errc::exists, "found");
    }
    return info.error().code == Errc::not_found ? Status{} : Status(std::unexpected(info.error()));
  });
  if (!listed && !found) {
    return std::unexpected(listed.error());
  }
  return found;
}

RegistryImpl::RegistryImpl(std::shared_ptr<Storage> storage, RegistryOptions options)
    : m_storage(std::move(storage)), m_options(options) {
  // Where listings come sorted and directory mtimes do not follow their entries, the sorted
  // lists would be stale at once and are not needed.
  if (m_storage->lists_in_order()) {
    m_options.tag_list_min = 0;
    m_options.catalog_list_min = 0;
  }
}

Result<Digest> RegistryImpl::read_link(const std::string& path) {
  auto content = m_storage->read(path, layout::k_max_link_size);
  if (!content) {
    if (content.error().code == Errc::too_large) {
      return fail(Errc::corrupt, "link " + path + ": too large");
    }
    return std::unexpected(content.error());
  }
  return layout::parse_link(*content, path);
}

Status RegistryImpl::write_link(const std::string& path, const Digest& digest) {
  return m_storage->write_file(path, layout::link_content(digest));
}

Result<bool> RegistryImpl::refresh_link(const std::string& path, Refresh mode) {
  auto info = m_storage->stat(path);
  if (!info) {
    if (info.error().code == Errc::not_found) {
      return false;
    }
    return std::unexpected(info.error());
  }
  // The local clock is close enough here: refresh_after is minutes, GC's grace window hours.
  if (info->mtime + m_options.refresh_after >= Clock::now()) {
    return true;
  }
  auto touched = m_storage->touch(path);
  if (!touched) {
    if (touched.error().code == Errc::not_found) {
      return false;
    }
    // A read replica on a read-only mount must serve pulls: the link exists, only its age
    // could not be refreshed, and only writers depend on that age.
    if (mode == Refresh::best_effort) {
      return true;
    }
    return std::unexpected(touched.error());
  }
  return true;
}

Status RegistryImpl::ensure_link(const std::string& path, const Digest& digest) {
  auto present = refresh_link(path);
  if (!present) {
    return std::unexpected(present.error());
  }
  if (*present) {
    return {};
  }
  return write_link(path, digest);
}

Result<bool> RegistryImpl::exists(const std::string& path) {
  auto info = m_storage->stat(path);
  if (info) {
    return true;
  }
  if (info.error().code == Errc::not_found) {
    return false;
  }
  return std::unexpected(info.error());
}

Result<uint64_t> RegistryImpl::blob_size(const Digest& digest) {
  auto info = on_not_found(m_storage->stat(layout::blob_data(digest)), Errc::blob_unknown, "blob " + digest.str());
  if (!info) {
    return std::unexpected(info.error());
  }
  return info->size;
}

Status RegistryImpl::require_repo(std::string_view repo) {
  auto present = exists(layout::repo_dir(repo));
  if (!present) {
    return std::unexpected(present.error());
  }
  if (!*present) {
    return fail(Errc::name_unknown, "repository " + std::string(repo) + " not found");
  }
  return {};
}

Status RegistryImpl::require_manifests(std::string_view repo) {
  auto held = holds_manifest(*m_storage, repo);
  if (!held) {
    return std::unexpected(held.error());
  }
  if (!*held) {
    return fail(Errc::name_unknown, "repository " + std::string(repo) + " not found");
  }
  return {};
}

namespace {

// Glob match with '*' (any run) and '?' (one character), iterative with one backtrack point.
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

}  // namespace

bool tag_matches_any(std::string_view tag, const std::vector<std::string>& patterns) {
  for (const std::string& pattern : patterns) {
    if (glob_match(pattern, tag)) {
      return true;
    }
  }
  return false;
}

Result<std::vector<std::string>> parse_tag_patterns(std::string_view text) {
  std::vector<std::string> patterns;
  auto blank = [](char ch) { return std::isspace(static_cast<unsigned char>(ch)) != 0; };
  auto allowed = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '.' || ch == '-' || ch == '*' ||
           ch == '?';
  };
  while (!text.empty()) {
    auto comma = text.find(',');
    auto part = text.substr(0, comma);
    while (!part.empty() && blank(part.front())) {
      part.remove_prefix(1);
    }
    while (!part.empty() && blank(part.back())) {
      part.remove_suffix(1);
    }
    if (part.size() > 128 || !std::all_of(part.begin(), part.end(), allowed)) {
      return fail(Errc::invalid_argument,
                  "'" + std::string(part) + "' is not a tag pattern (tag characters, '*' and '?')");
    }
    if (!part.empty()) {
      patterns.emplace_back(part);
    }
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
  }
  return patterns;
}

std::unique_ptr<Registry> make_registry(std::shared_ptr<Storage> storage, RegistryOptions options) {
  return std::make_unique<RegistryImpl>(std::move(storage), options);
}

}  // namespace regd
