// Mirroring repositories between the storage tree and other registries, by rules from a sync
// file: `regctl sync FILE` runs it once, regd's --sync-file every --sync-interval under the GC
// lease (docs/mirror.md). Library regd_sync.
//
// The sync file: which repositories to mirror, from where to where, which tags.
//
//   {"mirrors": [
//     {"source": "docker://127.0.0.1:5000/team/app", "target": "mirror/app",
//      "tags": ["v*", "/^release-[0-9]+$/"], "newest": 3, "referrers": true},
//     {"source": "mirror/app", "target": "docker://127.0.0.1:5001/team/app", "tags": ["*"]}]}
//
// source and target: a repository of the storage tree or docker://HOST[:PORT]/REPO (no tag);
// tags: globs ('*', '?', as --immutable-tags) or /regular expressions/ (ECMAScript, searched in
// the tag: anchor them with ^ and $); newest: only the N greatest matching tags in version order
// (as sort -V: the distribution API has no push times); referrers: copy them too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"
#include "regd/registry.h"
#include "regd/remote.h"
#include "regd/remote_copy.h"
#include "regd/storage.h"

namespace regd::sync {

struct TagFilter {
  std::string text;                 // as written
  std::optional<std::regex> regex;  // when written /.../
};

struct SyncRule {
  std::string source;
  std::string target;
  std::vector<TagFilter> tags;
  std::optional<uint64_t> newest;
  bool referrers = false;
};

// Errors: invalid_argument naming the mirror (by index) and the field.
[[nodiscard]] Result<std::vector<SyncRule>> parse_sync_config(std::string_view text);
// Reads and parses the sync file `path` (at most 1 MiB). Errors: invalid_argument naming the
// file (missing, unreadable, too large, or any error of parse_sync_config).
[[nodiscard]] Result<std::vector<SyncRule>> load_sync_file(const std::string& path);
// Whether any rule's source (reads_storage) or target (writes_storage) is a repository of the
// storage tree rather than docker://.
bool reads_storage(const std::vector<SyncRule>& rules);
bool writes_storage(const std::vector<SyncRule>& rules);

// The tags of `all` the rule selects, greatest version first when `newest` is set (then at most
// that many), else sorted.
std::vector<std::string> select_tags(const SyncRule& rule, std::vector<std::string> all);

// Version order of tag names (as sort -V): digit runs compare as numbers.
bool version_less(std::string_view a, std::string_view b);

// One mirrored tag and the manifest it names.
struct SyncedTag {
  std::string tag;
  Descriptor manifest;
};

// What one rule did.
struct RuleReport {
  std::string source;
  std::string target;
  std::vector<SyncedTag> tags;  // in the order they were copied
  RemoteCopyStats stats;
};

// Runs rules: opens their ends, one client per registry host (kept between runs, so tokens are
// reused). Not thread-safe.
class Syncer {
 public:
  // `client` applies to every docker:// host; `registry` is the storage tree (may be null when
  // no rule names a repository of it) and must outlive the syncer.
  Syncer(remote::ClientOptions client, Registry* registry) : m_client(std::move(client)), m_registry(registry) {}

  // Copies every tag the rule selects, and what it references, that the target lacks, and tags
  // it there. Errors: those of both ends, the message naming the rule's source (and tag) and target;
  // invalid_argument when a storage end is named without a registry.
  [[nodiscard]] Result<RuleReport> run(const SyncRule& rule, CopyProgress& progress);
  // HTTP requests sent so far, over all clients.
  uint64_t requests() const;

 private:
  Result<std::unique_ptr<ImageEnd>> open(const std::string& text);

  remote::ClientOptions m_client;
  Registry* m_registry;
  std::map<std::string, std::unique_ptr<remote::Client>> m_clients;
};

// A run of every rule under the GC lease (regd/gc.h): across all instances and regctl gc/prune,
// at most one such job at a time.
struct LeasedSyncOptions {
  std::chrono::seconds lease_ttl{600};  // renewed as the copies advance
  std::string holder;                   // shown to a GC, prune or sync that finds the lease taken
  // Called while the lease is held: once it is taken, and after each rule with its outcome (so
  // that what they log is ordered with the other instances' runs). May be empty.
  std::function<void()> on_leased;
  std::function<void(const Result<RuleReport>&)> on_rule;
};

// Each rule's report or error (a failed rule does not stop the others), in rule order.
using SyncRunReport = std::vector<Result<RuleReport>>;

// Takes the GC lease, runs every rule with `syncer` and releases the lease. Errors: conflict
// (another GC, prune or sync holds the lease; the message names the holder, or the lease was
// lost mid-run), io_error.
[[nodiscard]] Result<SyncRunReport> sync_under_lease(Storage& storage, Syncer& syncer,
                                                     const std::vector<SyncRule>& rules,
                                                     const LeasedSyncOptions& options);

}  // namespace regd::sync
