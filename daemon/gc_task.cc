#include "gc_task.h"

#include <unistd.h>

#include "log.h"

namespace regd::daemon {

GcTask::GcTask(std::shared_ptr<Storage> storage, GcOptions options, std::chrono::seconds interval)
    : m_storage(std::move(storage)), m_options(std::move(options)), m_interval(interval) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  m_options.holder = std::string("regd@") + host + ":" + std::to_string(::getpid());
  m_thread = std::thread([this] { loop(); });
}

GcTask::~GcTask() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

void GcTask::loop() {
  std::unique_lock lock(m_mutex);
  while (!m_wake.wait_for(lock, m_interval, [this] { return m_stop; })) {
    lock.unlock();
    collect();
    lock.lock();
  }
}

void GcTask::collect() {
  auto report = collect_garbage(m_storage, m_options);
  if (!report) {
    bool busy = report.error().code == Errc::conflict;
    log(busy ? LogLevel::info : LogLevel::error, busy ? "gc skipped" : "gc failed",
        {{"error", report.error().message}});
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

}  // namespace regd::daemon
