// What garbage collection learns from one pass over every repository: the links (with their
// ages), each manifest's references, and which manifests the roots reach.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "regd/digest.h"
#include "regd/error.h"
#include "regd/gc.h"
#include "regd/manifest.h"
#include "regd/storage.h"

namespace regd {

struct LinkAge {
  std::string path;
  Clock::time_point mtime;
};

struct RepoLinks {
  std::string repo;
  std::map<Digest, LinkAge> layers;
  std::map<Digest, LinkAge> revisions;
  std::set<Digest> tagged;  // targets of tags' current links
};

struct GcScan {
  std::vector<RepoLinks> repos;
  // Every digest a manifest references (config, layers, index children), by manifest digest.
  std::map<Digest, std::vector<Digest>> references;
  std::map<Digest, Digest> subjects;  // manifest digest -> its subject
  std::set<Digest> marked;
  // Revision links to remove (delete_untagged): unreached and older than the cutoff.
  std::vector<std::pair<std::string, Digest>> doomed;
  // Newest link to each digest, over every repository's layer and revision links.
  std::map<Digest, Clock::time_point> newest_link;
  uint64_t manifests = 0;
  // Repositories whose manifests could not all be read: every blob they link is marked.
  std::vector<GcIncomplete> incomplete;
};

// Manifests are small; this bounds what one read of a stored manifest may allocate.
inline constexpr size_t k_max_manifest_read = 64 << 20;

// Config, layers and index children of a manifest.
std::vector<Digest> manifest_references(const ParsedManifest& parsed);

// Every repository directory, including those the catalog does not list yet (only layers or
// uploads, no manifest): their fresh links protect blobs a push in progress relies on.
[[nodiscard]] Result<std::vector<std::string>> all_repositories(const std::shared_ptr<Storage>& storage);

// Reads every repository's links and manifests and marks what must stay. A manifest that cannot
// be read or parsed (after a second try) confines the damage to its repository (GcScan::incomplete);
// a revision link without data that nothing needs is a crash leftover and is skipped. Failing to
// list a repository's links aborts.
[[nodiscard]] Result<GcScan> scan_and_mark(const std::shared_ptr<Storage>& storage, const GcOptions& options,
                                           Clock::time_point cutoff, const GcProgress& progress);

// The manifests of one repository that no tag reaches (through index children and the referrers of
// reached manifests) and whose revision link is older than `cutoff`, judged as GC's
// delete_untagged does; tags named in `ignore_tags` count as gone (a dry run of a prune that
// would remove them). A repository whose manifests cannot all be read dooms nothing and says why.
struct UntaggedScan {
  std::vector<std::pair<Digest, Clock::time_point>> doomed;  // with their revision link's mtime
  std::map<Digest, Digest> subjects;                         // doomed manifest -> its subject
  std::string incomplete;                                    // non-empty: nothing doomed, this is why
};
[[nodiscard]] Result<UntaggedScan> find_untagged(const std::shared_ptr<Storage>& storage, const std::string& repo,
                                                 Clock::time_point cutoff, const std::set<std::string>& ignore_tags);

// The digests the tags of `repo` point at now.
[[nodiscard]] Result<std::set<Digest>> tag_targets(const std::shared_ptr<Storage>& storage, const std::string& repo);

// Re-reads every repository's layer and revision links only (the sweep's re-check).
[[nodiscard]] Result<std::vector<RepoLinks>> scan_links(const std::shared_ptr<Storage>& storage);

}  // namespace regd
