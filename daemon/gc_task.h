// regd's background jobs on the storage tree: --gc-interval runs the online garbage collection of
// regctl gc, --prune-interval the retention policy of regctl prune, each every interval on a
// thread of its own. Both take the GC lease, so across all instances at most one such job runs
// at a time; the others log that the lease is taken and try again next interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "metrics.h"
#include "regd/gc.h"
#include "regd/retention.h"
#include "regd/storage.h"

namespace regd::daemon {

class BackgroundTask {
 public:
  // Starts the thread; `job` first runs one interval after start, then every interval.
  BackgroundTask(std::chrono::seconds interval, std::function<void()> job);
  // Stops and joins: waits for a run in progress to finish.
  ~BackgroundTask();
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

 private:
  void loop();

  std::chrono::seconds m_interval;
  std::function<void()> m_job;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;
  std::thread m_thread;
};

// "regd@<host>:<pid>": the lease holder a GC or prune that finds the lease taken is shown.
std::string lease_holder();

// Collects garbage every interval, logs the outcome ("gc done", "gc skipped", "gc failed") and
// counts it in `metrics` (if not null; it must outlive the task).
std::unique_ptr<BackgroundTask> start_gc_task(std::shared_ptr<Storage> storage, GcOptions options,
                                              std::chrono::seconds interval, Metrics* metrics = nullptr);

// Applies the retention policy to every repository every interval and logs the outcome
// ("prune done" with every tag and manifest removed, "prune skipped", "prune failed").
std::unique_ptr<BackgroundTask> start_prune_task(std::shared_ptr<Storage> storage, PruneOptions options,
                                                 std::chrono::seconds interval);

}  // namespace regd::daemon
