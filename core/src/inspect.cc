#include "regd/inspect.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "gc_scan.h"
#include "layout.h"
#include "regd/reference.h"
#include "registry_impl.h"

namespace regd {

std::string_view link_kind_name(LinkKind kind) {
  switch (kind) {
    case LinkKind::layer:
      return "layer";
    case LinkKind::revision:
      return "revision";
    case LinkKind::tag_current:
      return "tag_current";
    case LinkKind::tag_index:
      return "tag_index";
  }
  return "unknown";
}

namespace {

constexpr size_t k_max_state_size = 1024;
constexpr size_t k_buffer_size = 1 << 20;

class InspectorImpl final : public Inspector {
 public:
  explicit InspectorImpl(std::shared_ptr<Storage> storage) : m_storage(std::move(storage)) {}

  Status for_each_blob(const std::function<Status(const BlobInfo&)>& visit) override {
    for (DigestAlgorithm algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
      std::string root = std::string(layout::k_prefix) + "/blobs/" + std::string(algorithm_name(algorithm));
      auto listed = m_storage->list(root, [&](const DirEntry& prefix) -> Status {
        if (prefix.type != EntryType::directory) {
          return {};
        }
        return visit_prefix(root + "/" + prefix.name, algorithm, visit);
      });
      if (!listed && listed.error().code != Errc::not_found) {
        return listed;
      }
    }
    return {};
  }

  Result<uint64_t> blob_size(const Digest& digest) override {
    auto info = m_storage->stat(layout::blob_data(digest));
    if (!info) {
      return std::unexpected(info.error());
    }
    return info->size;
  }

  Result<BlobInfo> hash_blob(const Digest& digest, const std::function<void(uint64_t)>& progress) override {
    auto file = m_storage->open_read(layout::blob_data(digest));
    if (!file) {
      return std::unexpected(file.error());
    }
    Hasher hasher(digest.algorithm());
    std::vector<char> buffer(k_buffer_size);
    for (uint64_t offset = 0;;) {
      auto got = (*file)->read_at(offset, buffer);
      if (!got) {
        return std::unexpected(got.error());
      }
      if (*got == 0) {
        break;
      }
      hasher.update(std::span<const char>(buffer.data(), *got));
      offset += *got;
      if (progress) {
        progress(*got);
      }
    }
    return BlobInfo{hasher.digest(), hasher.size()};
  }

  Result<std::string> quarantine_blob(const Digest& digest) override {
    auto stamp = m_storage->now(std::string(layout::k_prefix) + "/_quarantine/.clock");
    auto seconds = stamp ? std::chrono::duration_cast<std::chrono::seconds>(stamp->time_since_epoch()).count() : 0;
    std::string target = std::string(layout::k_prefix) + "/_quarantine/" + std::string(digest.algorithm_name()) + "/" +
                         digest.hex() + "/data-" + std::to_string(seconds);
    REGD_TRY(m_storage->rename(layout::blob_data(digest), target));
    return target;
  }

  Result<std::vector<LinkEntry>> list_links(std::string_view repo) override {
    REGD_TRY(validate_repository(repo));
    if (auto info = m_storage->stat(layout::repo_dir(repo)); !info) {
      return on_not_found(Result<std::vector<LinkEntry>>(std::unexpected(info.error())), Errc::name_unknown,
                          "repository " + std::string(repo) + " not found");
    }
    std::vector<LinkEntry> links;
    REGD_TRY(add_digest_links(layout::repo_dir(repo) + "/_layers", LinkKind::layer, "", links));
    REGD_TRY(add_digest_links(layout::revisions_root(repo), LinkKind::revision, "", links));
    auto listed = m_storage->list(layout::tags_dir(repo), [&](const DirEntry& entry) -> Status {
      if (entry.type != EntryType::directory) {
        return {};
      }
      add_link(layout::tag_current_link(repo, entry.name), LinkKind::tag_current, entry.name, std::nullopt, links);
      return add_digest_links(layout::tag_dir(repo, entry.name) + "/index", LinkKind::tag_index, entry.name, links);
    });
    if (!listed && listed.error().code != Errc::not_found) {
      return std::unexpected(listed.error());
    }
    return links;
  }

  Result<std::vector<std::string>> list_repository_dirs() override {
    auto names = all_repositories(m_storage);
    if (names) {
      std::sort(names->begin(), names->end());
    }
    return names;
  }

  Result<std::vector<UploadEntry>> list_uploads(std::string_view repo) override {
    REGD_TRY(validate_repository(repo));
    std::vector<UploadEntry> uploads;
    auto listed = m_storage->list(layout::repo_dir(repo) + "/_uploads", [&](const DirEntry& entry) -> Status {
      uploads.push_back(check_upload(repo, entry));
      return {};
    });
    if (!listed && listed.error().code != Errc::not_found) {
      return std::unexpected(listed.error());
    }
    return uploads;
  }

 private:
  Status visit_prefix(const std::string& dir, DigestAlgorithm algorithm,
                      const std::function<Status(const BlobInfo&)>& visit) {
    auto listed = m_storage->list(dir, [&](const DirEntry& entry) -> Status {
      auto digest = Digest::parse(std::string(algorithm_name(algorithm)) + ":" + entry.name);
      if (!digest || entry.type != EntryType::directory) {
        return {};
      }
      auto info = m_storage->stat(layout::blob_data(*digest));
      if (!info) {
        return info.error().code == Errc::not_found ? Status{} : Status(std::unexpected(info.error()));
      }
      return visit(BlobInfo{*digest, info->size});
    });
    return listed || listed.error().code == Errc::not_found ? Status{} : listed;
  }

  Status add_digest_links(const std::string& dir, LinkKind kind, const std::string& tag,
                          std::vector<LinkEntry>& links) {
    return for_each_digest_dir(*m_storage, dir, [&](const Digest& digest) -> Status {
      std::string path = dir + "/" + std::string(digest.algorithm_name()) + "/" + digest.hex() + "/link";
      add_link(path, kind, tag, digest, links);
      return {};
    });
  }

  void add_link(const std::string& path, LinkKind kind, const std::string& tag, std::optional<Digest> named,
                std::vector<LinkEntry>& links) {
    auto content = m_storage->read(path, layout::k_max_link_size);
    if (!content && content.error().code == Errc::not_found) {
      return;
    }
    LinkEntry entry{.kind = kind, .path = path, .tag = tag, .named = named, .target = std::nullopt, .error = {}};
    if (!content) {
      entry.error = content.error().message;
    } else if (auto digest = layout::parse_link(*content, path); digest) {
      entry.target = *digest;
    } else {
      entry.error = digest.error().message;
    }
    links.push_back(std::move(entry));
  }

  UploadEntry check_upload(std::string_view repo, const DirEntry& dir) {
    UploadEntry upload{.id = dir.name, .size = 0, .problems = {}};
    if (!layout::is_upload_id(dir.name) || dir.type != EntryType::directory) {
      upload.problems.push_back("not an upload session (name is not a lowercase UUID directory)");
      return upload;
    }
    if (auto info = m_storage->stat(layout::upload_data(repo, dir.name)); info) {
      upload.size = info->size;
    } else {
      upload.problems.push_back("data: " + info.error().message);
    }
    auto started = m_storage->read(layout::upload_started_at(repo, dir.name), layout::k_max_link_size);
    if (!started) {
      upload.problems.push_back("startedat: " + started.error().message);
    } else if (auto time = layout::parse_time(*started); !time) {
      upload.problems.push_back("startedat: " + time.error().message);
    }
    for (DigestAlgorithm algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
      check_hash_states(repo, dir.name, algorithm, upload);
    }
    return upload;
  }

  void check_hash_states(std::string_view repo, const std::string& id, DigestAlgorithm algorithm, UploadEntry& upload) {
    std::string dir = layout::upload_dir(repo, id) + "/hashstates/" + std::string(algorithm_name(algorithm));
    auto listed = m_storage->list(dir, [&](const DirEntry& entry) -> Status {
      uint64_t offset = 0;
      auto [end, ec] = std::from_chars(entry.name.data(), entry.name.data() + entry.name.size(), offset);
      if (ec != std::errc() || end != entry.name.data() + entry.name.size()) {
        upload.problems.push_back("hash state " + entry.name + ": name is not an offset");
        return {};
      }
      if (offset > upload.size) {
        upload.problems.push_back("hash state " + entry.name + ": beyond the data's " + std::to_string(upload.size) +
                                  " bytes");
      }
      auto state = m_storage->read(dir + "/" + entry.name, k_max_state_size);
      if (!state) {
        upload.problems.push_back("hash state " + entry.name + ": " + state.error().message);
      } else if (auto hasher = Hasher::import_state(algorithm, *state); !hasher) {
        upload.problems.push_back("hash state " + entry.name + ": " + hasher.error().message);
      } else if (hasher->size() != offset) {
        upload.problems.push_back("hash state " + entry.name + ": records " + std::to_string(hasher->size()) +
                                  " bytes");
      }
      return {};
    });
    if (!listed && listed.error().code != Errc::not_found) {
      upload.problems.push_back("hash states: " + listed.error().message);
    }
  }

  std::shared_ptr<Storage> m_storage;
};

}  // namespace

std::unique_ptr<Inspector> make_inspector(std::shared_ptr<Storage> storage) {
  return std::make_unique<InspectorImpl>(std::move(storage));
}

}  // namespace regd
