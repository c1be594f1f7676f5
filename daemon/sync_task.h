// regd's periodic mirroring (--sync-file, --sync-interval; docs/mirror.md "Periodic sync inside
// regd"): every interval, on a thread of its own, the rules of a regctl sync file run under the
// GC lease, so that across all instances at most one sync, GC or prune runs at a time; the
// others log "sync skipped" with the lease holder and try again next interval.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gc_task.h"
#include "metrics.h"
#include "regd/registry.h"
#include "regd/remote.h"
#include "regd/storage.h"
#include "regd/sync.h"

namespace regd::daemon {

// The rules the task runs: replaced by a SIGHUP reload, read at the start of each run.
// Thread-safe.
class SyncRules {
 public:
  explicit SyncRules(std::vector<sync::SyncRule> rules) : m_rules(std::move(rules)) {}
  std::vector<sync::SyncRule> get() const {
    std::lock_guard lock(m_mutex);
    return m_rules;
  }
  void set(std::vector<sync::SyncRule> rules) {
    std::lock_guard lock(m_mutex);
    m_rules = std::move(rules);
  }

 private:
  mutable std::mutex m_mutex;
  std::vector<sync::SyncRule> m_rules;
};

// Runs `rules` every interval with clients made from `client`, logs the outcome ("sync started"
// once the lease is taken, then "sync done" per rule with its copy stats or "sync failed" with its
// error, all under the lease; "sync skipped" when the lease is held elsewhere, "sync failed" when
// the run cannot start) and counts it in `metrics` (if not null). `registry` (over `storage`)
// and `metrics` must outlive the task.
std::unique_ptr<BackgroundTask> start_sync_task(std::shared_ptr<Storage> storage, Registry& registry,
                                                std::shared_ptr<const SyncRules> rules, remote::ClientOptions client,
                                                std::chrono::seconds interval, Metrics* metrics = nullptr);

}  // namespace regd::daemon
