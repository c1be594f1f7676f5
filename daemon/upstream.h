// The pull-through cache's upstream registries (--upstream, docs/mirror.md) and the worker
// threads that talk to them: the upstream client (regd/remote.h) blocks, so it never runs on an
// event-loop thread. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config.h"
#include "regd/remote.h"

namespace regd::daemon {

// Where a proxied repository comes from.
struct UpstreamTarget {
  const UpstreamMapping* mapping = nullptr;
  std::string repository;  // NAME at the upstream, for the local PREFIX/NAME
};

class Upstreams {
 public:
  // Starts config.fetches worker threads. Errors: invalid_argument (a mapping, a duration).
  [[nodiscard]] static Result<std::shared_ptr<Upstreams>> create(const UpstreamConfig& config);
  ~Upstreams();  // finishes the queued jobs, then joins the workers
  Upstreams(const Upstreams&) = delete;
  Upstreams& operator=(const Upstreams&) = delete;

  // The upstream of `repository` (PREFIX/NAME with NAME non-empty), or nullopt.
  std::optional<UpstreamTarget> find(std::string_view repository) const;
  // A client of the target's registry (a client is not thread-safe: one per job). With `quick`,
  // no retries: a revalidation that fails serves the cached tag instead. Errors: invalid_argument
  // (the auth file or the CA file).
  [[nodiscard]] Result<std::unique_ptr<remote::Client>> client(const UpstreamTarget& target, bool quick) const;
  // Runs `job` on a worker thread. False (the job is dropped) when --upstream-fetches jobs are
  // running and as many again wait: the caller answers 503.
  bool post(std::function<void()> job);

  std::chrono::seconds ttl() const { return m_ttl; }
  std::chrono::seconds timeout() const { return m_timeout; }

 private:
  explicit Upstreams(const UpstreamConfig& config);
  void work();

  UpstreamConfig m_config;
  std::vector<UpstreamMapping> m_mappings;
  std::chrono::seconds m_ttl{0};
  std::chrono::seconds m_timeout{0};
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<std::function<void()>> m_jobs;
  bool m_stopping = false;
  std::vector<std::thread> m_workers;
};

}  // namespace regd::daemon
