#include "verifier.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "context.h"
#include "regd/manifest.h"

namespace regd::cli {
namespace {

constexpr size_t k_page = 1000;

enum class BlobState { ok, corrupt, missing, unreadable };

class Verifier {
 public:
  Verifier(Registry& registry, Inspector& inspector, const VerifyOptions& options, Progress& progress)
      : m_registry(registry), m_inspector(inspector), m_options(options), m_progress(progress) {}

  Result<VerifyReport> run();

 private:
  Status collect_repositories();
  Status collect_blobs();
  void hash_all();
  void hash_one(const Digest& digest);
  BlobState state_of(const Digest& digest);
  void check_links(const std::string& repo, const std::vector<LinkEntry>& links);
  void check_manifest(const std::string& repo, const Digest& digest, const std::set<Digest>& layers,
                      const std::set<Digest>& revisions);
  Status check_uploads(const std::string& repo);
  void add(Problem problem);

  Registry& m_registry;
  Inspector& m_inspector;
  const VerifyOptions& m_options;
  Progress& m_progress;
  std::map<std::string, std::vector<LinkEntry>> m_links;  // per repository
  std::vector<Digest> m_work;
  std::mutex m_mutex;  // guards m_states and m_report
  std::map<Digest, BlobState> m_states;
  VerifyReport m_report;
};

Result<VerifyReport> Verifier::run() {
  REGD_CLI_TRY(collect_repositories());
  REGD_CLI_TRY(collect_blobs());
  hash_all();
  for (const auto& [repo, links] : m_links) {
    check_links(repo, links);
    REGD_CLI_TRY(check_uploads(repo));
  }
  return std::move(m_report);
}

Status Verifier::collect_repositories() {
  std::vector<std::string> names = m_options.repositories;
  if (names.empty()) {
    std::string last;
    for (bool more = true; more;) {
      auto page = m_registry.list_repositories(k_page, last);
      if (!page) {
        return std::unexpected(page.error());
      }
      names.insert(names.end(), page->items.begin(), page->items.end());
      more = page->more && !page->items.empty();
      last = more ? page->items.back() : last;
    }
  }
  for (const auto& name : names) {
    auto links = m_inspector.list_links(name);
    if (!links) {
      return std::unexpected(links.error());
    }
    m_report.links_checked += links->size();
    m_links[name] = std::move(*links);
    m_report.repositories.push_back(name);
  }
  return {};
}

Status Verifier::collect_blobs() {
  std::set<Digest> wanted;
  if (m_options.repositories.empty()) {
    auto walked = m_inspector.for_each_blob([&](const BlobInfo& blob) -> Status {
      wanted.insert(blob.digest);
      m_progress.expect(1, blob.size);
      return {};
    });
    if (!walked) {
      return walked;
    }
  } else {
    for (const auto& [repo, links] : m_links) {
      for (const auto& link : links) {
        if ((link.kind == LinkKind::layer || link.kind == LinkKind::revision) && link.target) {
          wanted.insert(*link.target);
        }
      }
    }
    m_progress.expect(wanted.size(), 0);
  }
  m_work.assign(wanted.begin(), wanted.end());
  return {};
}

void Verifier::hash_all() {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < m_work.size(); i = next++) {
      hash_one(m_work[i]);
    }
  };
  unsigned jobs = std::clamp<unsigned>(m_options.jobs, 1, 64);
  std::vector<std::jthread> threads;
  for (unsigned i = 1; i < jobs && i < m_work.size(); ++i) {
    threads.emplace_back(worker);
  }
  worker();
}

void Verifier::hash_one(const Digest& digest) {
  auto hashed = m_inspector.hash_blob(digest, [&](uint64_t bytes) { m_progress.add_bytes(bytes); });
  m_progress.add_item();
  BlobState state = BlobState::ok;
  Problem problem{.kind = {}, .repository = {}, .digest = digest.str(), .path = {}, .detail = {}, .quarantined_to = {}};
  if (!hashed) {
    state = hashed.error().code == Errc::not_found ? BlobState::missing : BlobState::unreadable;
    problem.kind = "unreadable_blob";
    problem.detail = hashed.error().message;
  } else if (hashed->digest != digest) {
    state = BlobState::corrupt;
    problem.kind = "corrupt_blob";
    problem.detail = "content (" + std::to_string(hashed->size) + " bytes) hashes to " + hashed->digest.str();
    if (m_options.quarantine) {
      auto moved = m_inspector.quarantine_blob(digest);
      problem.quarantined_to = moved ? *moved : "";
      problem.detail += moved ? "" : "; quarantine failed: " + moved.error().message;
    }
  }
  std::lock_guard lock(m_mutex);
  m_states[digest] = state;
  if (hashed) {
    ++m_report.blobs_checked;
    m_report.bytes_checked += hashed->size;
  }
  if (!problem.kind.empty() && state != BlobState::missing) {
    m_report.problems.push_back(std::move(problem));
  }
}

BlobState Verifier::state_of(const Digest& digest) {
  {
    std::lock_guard lock(m_mutex);
    if (auto it = m_states.find(digest); it != m_states.end()) {
      return it->second;
    }
  }
  auto size = m_inspector.blob_size(digest);
  BlobState state = size ? BlobState::ok : BlobState::missing;
  std::lock_guard lock(m_mutex);
  m_states[digest] = state;
  return state;
}

void Verifier::check_links(const std::string& repo, const std::vector<LinkEntry>& links) {
  std::set<Digest> layers;
  std::set<Digest> revisions;
  for (const auto& link : links) {
    if (link.target && (!link.named || *link.named == *link.target)) {
      (link.kind == LinkKind::layer ? layers : revisions).insert(*link.target);
    }
  }
  for (const auto& link : links) {
    Problem problem{
        .kind = {}, .repository = repo, .digest = {}, .path = link.path, .detail = {}, .quarantined_to = {}};
    if (!link.target) {
      problem.kind = "malformed_link";
      problem.detail = link.error;
    } else if (link.named && *link.named != *link.target) {
      problem.kind = "malformed_link";
      problem.detail = "holds " + link.target->str() + ", its directory names " + link.named->str();
    } else if (link.kind == LinkKind::tag_current && !revisions.contains(*link.target)) {
      problem.kind = "dangling_link";
      problem.digest = link.target->str();
      problem.detail = "tag " + link.tag + " points to a manifest the repository does not have";
    } else if ((link.kind == LinkKind::layer || link.kind == LinkKind::revision) &&
               state_of(*link.target) == BlobState::missing) {
      problem.kind = "dangling_link";
      problem.digest = link.target->str();
      problem.detail = std::string(link_kind_name(link.kind)) + " link to a blob whose data is missing";
    } else if (link.kind == LinkKind::revision && state_of(*link.target) == BlobState::ok) {
      check_manifest(repo, *link.target, layers, revisions);
    }
    if (!problem.kind.empty()) {
      add(std::move(problem));
    }
  }
}

void Verifier::check_manifest(const std::string& repo, const Digest& digest, const std::set<Digest>& layers,
                              const std::set<Digest>& revisions) {
  ++m_report.manifests_checked;
  Problem problem{.kind = "unreadable_manifest",
                  .repository = repo,
                  .digest = digest.str(),
                  .path = {},
                  .detail = {},
                  .quarantined_to = {}};
  auto manifest = m_registry.get_manifest(repo, digest.str());
  if (!manifest) {
    problem.detail = manifest.error().message;
    return add(std::move(problem));
  }
  auto parsed = parse_manifest(manifest->media_type, manifest->content);
  if (!parsed) {
    problem.detail = parsed.error().message;
    return add(std::move(problem));
  }
  std::vector<Descriptor> blobs = parsed->layers;
  if (parsed->config) {
    blobs.push_back(*parsed->config);
  }
  problem.kind = "missing_reference";
  for (const auto& blob : blobs) {
    bool linked = layers.contains(blob.digest) || revisions.contains(blob.digest);
    if ((!linked || state_of(blob.digest) == BlobState::missing) && !is_foreign_layer(blob)) {
      problem.detail = "references blob " + blob.digest.str() + (linked ? " whose data is missing" : " not linked");
      add(problem);
    }
  }
  for (const auto& child : parsed->manifests) {
    if (!revisions.contains(child.digest)) {
      problem.detail = "references manifest " + child.digest.str() + " not in the repository";
      add(problem);
    }
  }
}

Status Verifier::check_uploads(const std::string& repo) {
  auto uploads = m_inspector.list_uploads(repo);
  if (!uploads) {
    return std::unexpected(uploads.error());
  }
  for (const auto& upload : *uploads) {
    ++m_report.uploads_checked;
    for (const auto& detail : upload.problems) {
      add(Problem{.kind = "bad_upload",
                  .repository = repo,
                  .digest = {},
                  .path = "_uploads/" + upload.id,
                  .detail = detail,
                  .quarantined_to = {}});
    }
  }
  return {};
}

void Verifier::add(Problem problem) {
  std::lock_guard lock(m_mutex);
  m_report.problems.push_back(std::move(problem));
}

}  // namespace

Result<VerifyReport> verify_storage(Registry& registry, Inspector& inspector, const VerifyOptions& options,
                                    Progress& progress) {
  Verifier verifier(registry, inspector, options, progress);
  return verifier.run();
}

}  // namespace regd::cli
