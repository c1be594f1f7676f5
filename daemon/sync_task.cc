#include "sync_task.h"

#include "log.h"

namespace regd::daemon {

namespace {

void log_rule(const Result<sync::RuleReport>& rule, SyncRunMetrics& counts) {
  if (!rule) {
    ++counts.rules_failed;
    log(LogLevel::error, "sync failed", {{"error", rule.error().message}});
    return;
  }
  const sync::RemoteCopyStats& stats = rule->stats;
  counts.manifests_copied += stats.manifests_copied;
  counts.blobs_copied += stats.blobs_copied;
  counts.bytes_copied += stats.bytes_copied;
  log(LogLevel::info, "sync done",
      {{"source", rule->source},
       {"target", rule->target},
       {"tags", rule->tags.size()},
       {"manifests_copied", stats.manifests_copied},
       {"manifests_present", stats.manifests_present},
       {"blobs_copied", stats.blobs_copied},
       {"blobs_present", stats.blobs_present},
       {"blobs_mounted", stats.blobs_mounted},
       {"bytes_copied", stats.bytes_copied}});
}

// One run: the lease, then every rule. Each rule is logged on its own, while the lease is held
// (so the lines of all instances' runs never interleave), and one unreachable registry does not
// hide what the other rules did.
void run_sync(Storage& storage, sync::Syncer& syncer, const SyncRules& rules, const std::string& holder,
              Metrics* metrics) {
  auto start = std::chrono::steady_clock::now();
  SyncRunMetrics counts;
  sync::LeasedSyncOptions options;
  options.holder = holder;
  options.on_leased = [] { log(LogLevel::info, "sync started", {}); };
  options.on_rule = [&counts](const Result<sync::RuleReport>& rule) { log_rule(rule, counts); };
  auto report = sync::sync_under_lease(storage, syncer, rules.get(), options);
  if (!report) {
    // As gc: another instance's run holds the lease (or took it over from a run that stalled).
    bool busy = report.error().code == Errc::conflict;
    counts.outcome = busy ? SyncOutcome::skipped : SyncOutcome::failure;
    log(busy ? LogLevel::info : LogLevel::error, busy ? "sync skipped" : "sync failed",
        {{"error", report.error().message}});
  } else {
    counts.outcome = counts.rules_failed == 0 ? SyncOutcome::success : SyncOutcome::failure;
  }
  if (metrics != nullptr) {
    metrics->sync_finished(counts, std::chrono::steady_clock::now() - start);
  }
}

}  // namespace

std::unique_ptr<BackgroundTask> start_sync_task(std::shared_ptr<Storage> storage, Registry& registry,
                                                std::shared_ptr<const SyncRules> rules, remote::ClientOptions client,
                                                std::chrono::seconds interval, Metrics* metrics) {
  // One syncer for the task's life: its clients keep their connections and tokens between runs.
  auto syncer = std::make_shared<sync::Syncer>(std::move(client), &registry);
  return std::make_unique<BackgroundTask>(
      interval, [storage = std::move(storage), syncer, rules = std::move(rules), holder = lease_holder(), metrics] {
        run_sync(*storage, *syncer, *rules, holder, metrics);
      });
}

}  // namespace regd::daemon
