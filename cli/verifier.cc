#include "verifier.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "context.h"
#include "regd/manifest.h"

namespace regd::cli {
namespace {

// Prefixes of Inspector::list_uploads' problem texts (core/src/inspect.cc) for a session's data
// file and its startedat: which problem a missing file caused, when upload_status tells that
// the file is missing.
constexpr std::string_view k_upload_data_problem = "data: ";
constexpr std::string_view k_upload_started_problem = "startedat: ";

enum class BlobState { ok, corrupt, missing, unreadable };

// What a repository's links and readable manifests say it holds and needs.
struct RepoIndex {
  std::set<Digest> layers;
  std::set<Digest> revisions;
  std::set<Digest> tagged;      // current targets of tags
  std::set<Digest> referenced;  // configs and layers of its manifests
  std::set<Digest> children;    // manifests its indexes list
  bool manifests_read = true;   // every manifest parsed: `referenced` and `children` are complete
};

// A finding that looks like a crash leftover; confirmed by the leftover scan or by a re-check.
struct Candidate {
  LeftoverKind kind = LeftoverKind::temp_file;
  Problem problem;
  std::optional<Digest> blob;  // for links: the data whose absence makes it a leftover
};

class Verifier {
 public:
  Verifier(std::shared_ptr<Storage> storage, Registry& registry, Inspector& inspector, const VerifyOptions& options,
           Progress& progress)
      : m_storage(std::move(storage)),
        m_registry(registry),
        m_inspector(inspector),
        m_options(options),
        m_progress(progress) {}

  Result<VerifyReport> run();

 private:
  Status collect_repositories();
  Status collect_blobs();
  void hash_all();
  std::optional<Problem> hash_one(const Digest& digest);
  BlobState state_of(const Digest& digest);
  void check_repository(const std::string& repo, const std::vector<LinkEntry>& links);
  void check_link(const std::string& repo, const LinkEntry& link, const RepoIndex& index);
  void check_manifest(const std::string& repo, const Digest& digest, RepoIndex& index);
  Status check_uploads(const std::string& repo);
  void check_upload(const std::string& repo, const UploadEntry& upload);
  Status scan_leftovers();
  bool in_scope(const Leftover& leftover) const;
  std::optional<Leftover> confirm(const Candidate& candidate);
  void add(Problem problem);

  std::shared_ptr<Storage> m_storage;
  Registry& m_registry;
  Inspector& m_inspector;
  const VerifyOptions& m_options;
  Progress& m_progress;
  std::map<std::string, std::vector<LinkEntry>> m_links;  // per repository
  std::vector<Digest> m_work;
  std::vector<Candidate> m_candidates;
  std::mutex m_mutex;  // guards m_states and m_report
  std::map<Digest, BlobState> m_states;
  VerifyReport m_report;
};

// True when `leftover` is what `problem` saw: the same path, a path inside it (a link file in a
// link directory), or the same upload session (problems name it relative to the repository).
bool same_place(const Problem& problem, const Leftover& leftover) {
  if (problem.path.empty() || problem.repository != leftover.repository) {
    return false;
  }
  const std::string& mine = problem.path;
  const std::string& theirs = leftover.path;
  return mine == theirs || (mine.starts_with(theirs) && mine[theirs.size()] == '/') ||
         (theirs.ends_with(mine) && theirs.size() > mine.size() && theirs[theirs.size() - mine.size() - 1] == '/');
}

Result<VerifyReport> Verifier::run() {
  REGD_CLI_TRY(collect_repositories());
  REGD_CLI_TRY(collect_blobs());
  hash_all();
  for (const auto& [repo, links] : m_links) {
    check_repository(repo, links);
    REGD_CLI_TRY(check_uploads(repo));
  }
  // After the checks: whatever they saw that a crash left, and that is still there, is in it.
  REGD_CLI_TRY(scan_leftovers());
  return std::move(m_report);
}

Status Verifier::collect_repositories() {
  std::vector<std::string> names = m_options.repositories;
  if (names.empty()) {
    // Not the catalog: a repository without manifests still has links and uploads to check.
    auto all = m_inspector.list_repository_dirs();
    if (!all) {
      return std::unexpected(all.error());
    }
    names = std::move(*all);
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
  std::vector<std::optional<Problem>> found(m_work.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < m_work.size(); i = next++) {
      found[i] = hash_one(m_work[i]);
    }
  };
  {
    unsigned jobs = std::clamp<unsigned>(m_options.jobs, 1, 64);
    std::vector<std::jthread> threads;
    for (unsigned i = 1; i < jobs && i < m_work.size(); ++i) {
      threads.emplace_back(worker);
    }
    worker();
  }  // the threads join here
  // In the order of the digests, whichever thread hashed which: the report does not depend on --jobs.
  for (auto& problem : found) {
    if (problem) {
      m_report.problems.push_back(std::move(*problem));
    }
  }
}

std::optional<Problem> Verifier::hash_one(const Digest& digest) {
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
    return problem;
  }
  return std::nullopt;
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

// Manifests first: whether a link to missing data is a leftover depends on what they need.
void Verifier::check_repository(const std::string& repo, const std::vector<LinkEntry>& links) {
  RepoIndex index;
  for (const auto& link : links) {
    if (link.target && (!link.named || *link.named == *link.target)) {
      if (link.kind == LinkKind::layer || link.kind == LinkKind::revision) {
        (link.kind == LinkKind::layer ? index.layers : index.revisions).insert(*link.target);
      } else if (link.kind == LinkKind::tag_current) {
        index.tagged.insert(*link.target);
      }
    }
  }
  for (const auto& link : links) {
    if (link.kind == LinkKind::revision && link.target && (!link.named || *link.named == *link.target) &&
        state_of(*link.target) == BlobState::ok) {
      check_manifest(repo, *link.target, index);
    }
  }
  for (const auto& link : links) {
    check_link(repo, link, index);
  }
}

void Verifier::check_link(const std::string& repo, const LinkEntry& link, const RepoIndex& index) {
  Problem problem{.kind = {}, .repository = repo, .digest = {}, .path = link.path, .detail = {}, .quarantined_to = {}};
  if (!link.target) {
    problem.kind = "malformed_link";
    problem.detail = link.error;
  } else if (link.named && *link.named != *link.target) {
    problem.kind = "malformed_link";
    problem.detail = "holds " + link.target->str() + ", its directory names " + link.named->str();
  } else if (link.kind == LinkKind::tag_current && !index.revisions.contains(*link.target)) {
    problem.kind = "dangling_link";
    problem.digest = link.target->str();
    problem.detail = "tag " + link.tag + " points to a manifest the repository does not have";
  } else if ((link.kind == LinkKind::layer || link.kind == LinkKind::revision) &&
             state_of(*link.target) == BlobState::missing) {
    problem.kind = "dangling_link";
    problem.digest = link.target->str();
    problem.detail = std::string(link_kind_name(link.kind)) + " link to a blob whose data is missing";
    bool needed = link.kind == LinkKind::layer
                      ? index.referenced.contains(*link.target)
                      : index.tagged.contains(*link.target) || index.children.contains(*link.target);
    if (index.manifests_read && !needed) {
      LeftoverKind kind = link.kind == LinkKind::layer ? LeftoverKind::layer_link : LeftoverKind::revision_link;
      m_candidates.push_back(Candidate{.kind = kind, .problem = std::move(problem), .blob = *link.target});
      return;
    }
  }
  if (!problem.kind.empty()) {
    add(std::move(problem));
  }
}

void Verifier::check_manifest(const std::string& repo, const Digest& digest, RepoIndex& index) {
  ++m_report.manifests_checked;
  Problem problem{.kind = "unreadable_manifest",
                  .repository = repo,
                  .digest = digest.str(),
                  .path = {},
                  .detail = {},
                  .quarantined_to = {}};
  auto manifest = m_registry.get_manifest(repo, digest.str());
  if (!manifest) {
    index.manifests_read = false;
    problem.detail = manifest.error().message;
    return add(std::move(problem));
  }
  auto parsed = parse_manifest(manifest->media_type, manifest->content);
  if (!parsed) {
    index.manifests_read = false;
    problem.detail = parsed.error().message;
    return add(std::move(problem));
  }
  std::vector<Descriptor> blobs = parsed->layers;
  if (parsed->config) {
    blobs.push_back(*parsed->config);
  }
  problem.kind = "missing_reference";
  for (const auto& blob : blobs) {
    index.referenced.insert(blob.digest);
    bool linked = index.layers.contains(blob.digest) || index.revisions.contains(blob.digest);
    if ((!linked || state_of(blob.digest) == BlobState::missing) && !is_foreign_layer(blob)) {
      problem.detail = "references blob " + blob.digest.str() + (linked ? " whose data is missing" : " not linked");
      add(problem);
    }
  }
  for (const auto& child : parsed->manifests) {
    index.children.insert(child.digest);
    if (!index.revisions.contains(child.digest)) {
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
    if (!upload.problems.empty()) {
      check_upload(repo, upload);
    }
  }
  return {};
}

// registry:2 creates an upload's data file lazily: a session with startedat and no data is an
// empty session. One without startedat was never published, or was being removed.
void Verifier::check_upload(const std::string& repo, const UploadEntry& upload) {
  auto status = m_registry.upload_status(repo, upload.id);
  bool unstarted = !status && status.error().code == Errc::upload_unknown &&
                   std::ranges::any_of(upload.problems,
                                       [](const std::string& p) { return p.starts_with(k_upload_started_problem); });
  bool lazy_data = status && status->size == 0;
  Problem problem{.kind = "bad_upload",
                  .repository = repo,
                  .digest = {},
                  .path = "_uploads/" + upload.id,
                  .detail = {},
                  .quarantined_to = {}};
  if (unstarted) {
    problem.detail = "no startedat";
    m_candidates.push_back(Candidate{.kind = LeftoverKind::upload_session, .problem = problem, .blob = {}});
    return;
  }
  for (const auto& detail : upload.problems) {
    if (!(lazy_data && detail.starts_with(k_upload_data_problem))) {
      problem.detail = detail;
      add(problem);
    }
  }
}

Status Verifier::scan_leftovers() {
  LeftoverOptions options;
  options.dry_run = true;
  options.grace = m_options.grace;
  auto scan = collect_leftovers(m_storage, options);
  if (!scan) {
    return std::unexpected(scan.error());
  }
  m_report.t0 = scan->t0;
  for (Leftover& leftover : scan->found) {
    if (in_scope(leftover)) {
      m_report.leftovers.push_back(std::move(leftover));
    }
  }
  auto is_leftover = [&](const Problem& problem) {
    return std::ranges::any_of(m_report.leftovers, [&](const Leftover& l) { return same_place(problem, l); });
  };
  std::erase_if(m_report.problems, is_leftover);
  for (const Candidate& candidate : m_candidates) {
    if (is_leftover(candidate.problem)) {
      continue;
    }
    if (auto confirmed = confirm(candidate); confirmed) {
      m_report.leftovers.push_back(std::move(*confirmed));
    }
  }
  return {};
}

bool Verifier::in_scope(const Leftover& leftover) const {
  if (m_options.repositories.empty()) {
    return true;
  }
  return std::ranges::find(m_options.repositories, leftover.repository) != m_options.repositories.end();
}

// A candidate the scan did not list: vanished meanwhile (the write finished or was cleaned up,
// then it is nothing), or still there and so a leftover the scan has not judged - reported as
// not removable. Upload sessions never gain a startedat, so one the scan missed is gone.
std::optional<Leftover> Verifier::confirm(const Candidate& candidate) {
  if (!candidate.blob) {
    return std::nullopt;
  }
  auto info = m_storage->stat(candidate.problem.path);
  if (!info || m_inspector.blob_size(*candidate.blob)) {
    return std::nullopt;
  }
  return Leftover{.kind = candidate.kind,
                  .path = candidate.problem.path,
                  .repository = candidate.problem.repository,
                  .mtime = info->mtime,
                  .bytes = 0,
                  .removable = false};
}

void Verifier::add(Problem problem) {
  std::lock_guard lock(m_mutex);
  m_report.problems.push_back(std::move(problem));
}

}  // namespace

Result<VerifyReport> verify_storage(std::shared_ptr<Storage> storage, Registry& registry, Inspector& inspector,
                                    const VerifyOptions& options, Progress& progress) {
  Verifier verifier(std::move(storage), registry, inspector, options, progress);
  return verifier.run();
}

}  // namespace regd::cli
