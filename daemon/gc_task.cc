#include "gc_task.h"

#include <unistd.h>

#include "log.h"

namespace regd::daemon {

BackgroundTask::BackgroundTask(std::chrono::seconds interval, std::function<void()> job)
    : m_interval(interval), m_job(std::move(job)) {
  m_thread = std::thread([this] { loop(); });
}

BackgroundTask::~BackgroundTask() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

void BackgroundTask::loop() {
  std::unique_lock lock(m_mutex);
  while (!m_wake.wait_for(lock, m_interval, [this] { return m_stop; })) {
    lock.unlock();
    m_job();
    lock.lock();
  }
}

std::string lease_holder() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string("regd@") + host + ":" + std::to_string(::getpid());
}

namespace {

// Another instance's run holds the lease: routine, not a failure.
void log_not_done(std::string_view job, const Error& error) {
  bool busy = error.code == Errc::conflict;
  log(busy ? LogLevel::info : LogLevel::error, std::string(job) + (busy ? " skipped" : " failed"),
      {{"error", error.message}});
}

void collect(const std::shared_ptr<Storage>& storage, const GcOptions& options, Metrics* metrics) {
  auto start = std::chrono::steady_clock::now();
  auto report = collect_garbage(storage, options);
  if (metrics != nullptr) {
    metrics->gc_finished(report, std::chrono::steady_clock::now() - start);
  }
  if (!report) {
    log_not_done("gc", report.error());
    return;
  }
  log(LogLevel::info, "gc done",
      {{"blobs_removed", report->blobs_removed},
       {"bytes_removed", report->bytes_removed},
       {"manifests_removed", report->manifests_removed},
       {"uploads_removed", report->uploads_removed},
       {"blobs_restored", report->blobs_restored},
       {"blobs_young", report->blobs_young}});
}

void apply_retention(const std::shared_ptr<Storage>& storage, const PruneOptions& options) {
  auto report = prune(storage, options);
  if (!report) {
    log_not_done("prune", report.error());
    return;
  }
  std::string tags;
  for (const PrunedTag& tag : report->removed_tags) {
    tags += (tags.empty() ? "" : " ") + tag.repository + ":" + tag.tag;
  }
  std::string manifests;
  for (const PrunedManifest& manifest : report->removed_manifests) {
    manifests += (manifests.empty() ? "" : " ") + manifest.repository + "@" + manifest.digest.str();
  }
  log(LogLevel::info, "prune done",
      {{"repositories", report->repositories},
       {"tags_removed", report->removed_tags.size()},
       {"manifests_removed", report->removed_manifests.size()},
       {"tags_kept_immutable", report->immutable.size()},
       {"tags_kept_moved", report->moved.size()},
       {"repositories_incomplete", report->incomplete.size()},
       {"removed_tags", tags},
       {"removed_manifests", manifests}});
}

}  // namespace

std::unique_ptr<BackgroundTask> start_gc_task(std::shared_ptr<Storage> storage, GcOptions options,
                                              std::chrono::seconds interval, Metrics* metrics) {
  options.holder = lease_holder();
  return std::make_unique<BackgroundTask>(interval, [storage = std::move(storage), options = std::move(options),
                                                     metrics] { collect(storage, options, metrics); });
}

std::unique_ptr<BackgroundTask> start_prune_task(std::shared_ptr<Storage> storage, PruneOptions options,
                                                 std::chrono::seconds interval) {
  options.holder = lease_holder();
  return std::make_unique<BackgroundTask>(
      interval, [storage = std::move(storage), options = std::move(options)] { apply_retention(storage, options); });
}

}  // namespace regd::daemon
