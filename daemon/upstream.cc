#include "upstream.h"

#include "log.h"
#include "regd/duration.h"

namespace regd::daemon {

Result<std::shared_ptr<Upstreams>> Upstreams::create(const UpstreamConfig& config) {
  if (auto valid = validate_upstream_config(config); !valid) {
    return std::unexpected(valid.error());
  }
  std::shared_ptr<Upstreams> upstreams(new Upstreams(config));
  for (uint32_t i = 0; i < config.fetches; ++i) {
    upstreams->m_workers.emplace_back([raw = upstreams.get()] { raw->work(); });
  }
  return upstreams;
}

Upstreams::Upstreams(const UpstreamConfig& config)
    : m_config(config),
      m_mappings(*parse_upstreams(config.upstreams)),
      m_ttl(*parse_duration(config.ttl)),
      m_timeout(*parse_duration(config.timeout)) {}

Upstreams::~Upstreams() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  for (std::thread& worker : m_workers) {
    worker.join();
  }
}

std::optional<UpstreamTarget> Upstreams::find(std::string_view repository) const {
  for (const UpstreamMapping& mapping : m_mappings) {
    if (repository.size() > mapping.prefix.size() + 1 && repository.starts_with(mapping.prefix) &&
        repository[mapping.prefix.size()] == '/') {
      return UpstreamTarget{&mapping, std::string(repository.substr(mapping.prefix.size() + 1))};
    }
  }
  return std::nullopt;
}

Result<std::unique_ptr<remote::Client>> Upstreams::client(const UpstreamTarget& target, bool quick) const {
  remote::ClientOptions options;
  options.plain_http = target.mapping->plain_http;
  options.tls_verify = m_config.tls_verify;
  options.ca_file = m_config.ca;
  options.auth_file = m_config.authfile;
  options.timeout = m_timeout;
  // A fill is retried by the client that asks again; a revalidation falls back to the cache.
  options.max_retries = quick ? 0 : 1;
  options.retry_delay = std::chrono::milliseconds(200);
  options.max_retry_delay = std::chrono::duration_cast<std::chrono::milliseconds>(m_timeout);
  options.max_resumes = quick ? 0 : 2;
  return remote::make_client(target.mapping->host, options);
}

bool Upstreams::post(std::function<void()> job) {
  {
    std::lock_guard lock(m_mutex);
    if (m_jobs.size() >= m_workers.size()) {
      return false;
    }
    m_jobs.push_back(std::move(job));
  }
  m_wake.notify_one();
  return true;
}

void Upstreams::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stopping || !m_jobs.empty(); });
      if (m_jobs.empty()) {
        return;
      }
      job = std::move(m_jobs.front());
      m_jobs.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      log(LogLevel::error, "upstream job failed", {{"error", e.what()}});
    }
  }
}

}  // namespace regd::daemon
