// regd --gc-interval: the online garbage collection of regctl gc, run in the background every
// interval. With several instances the GC lease lets at most one collect at a time; the others
// log that the lease is taken and try again next interval.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "regd/gc.h"
#include "regd/storage.h"

namespace regd::daemon {

class GcTask {
 public:
  // Starts the thread; the first collection comes one interval after start.
  GcTask(std::shared_ptr<Storage> storage, GcOptions options, std::chrono::seconds interval);
  // Stops and joins: waits for a collection in progress to finish.
  ~GcTask();
  GcTask(const GcTask&) = delete;
  GcTask& operator=(const GcTask&) = delete;

 private:
  void loop();
  void collect();

  std::shared_ptr<Storage> m_storage;
  GcOptions m_options;
  std::chrono::seconds m_interval;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;
  std::thread m_thread;
};

}  // namespace regd::daemon
