// The rate-limit and quota steps of dispatch() (docs/security.md, "Rate limits and quotas"):
// token buckets per client address and per user, the cap on upload bodies in flight, and the
// open upload sessions a user started through this instance. All state is this process's own
// and bounded; nothing is shared with other instances (the fleet admits limit x instances).
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "client_address.h"
#include "config.h"
#include "http_types.h"
#include "rate_limit.h"
#include "regd/registry.h"

namespace regd::daemon {

class Limits {
 public:
  // REQUIRES: validate_limits_config(config) passed. `now` is the rate limiters' clock.
  explicit Limits(const LimitsConfig& config, RateLimiter::Now now = RateLimiter::Clock::now);

  // Applies new limits (SIGHUP) to the requests that start after; false when `config` equals the
  // current one. A rate limiter whose rate, burst and size stay keeps its buckets; a changed one
  // starts with every bucket full. Upload slots and remembered sessions carry over. Thread-safe.
  // REQUIRES: validate_limits_config(config) passed.
  bool reconfigure(const LimitsConfig& config);

  // nullopt to go on, else 429 TOOMANYREQUESTS with Retry-After. Thread-safe.
  std::optional<Response> check_address(const Request& request);
  // Only authenticated requests (request.user set) have a user bucket. Thread-safe.
  std::optional<Response> check_user(const Request& request);

  // Holds one of --max-concurrent-uploads while alive.
  class UploadSlot {
   public:
    explicit UploadSlot(std::atomic<uint32_t>& count) : m_count(count) {}
    ~UploadSlot() { m_count.fetch_sub(1); }
    UploadSlot(const UploadSlot&) = delete;
    UploadSlot& operator=(const UploadSlot&) = delete;

   private:
    std::atomic<uint32_t>& m_count;
  };
  // A slot for an upload request with a body, or the 429 when all are taken. Thread-safe.
  std::expected<std::unique_ptr<UploadSlot>, Response> upload_slot();

  // Before a session starts in `repo` for `user` (empty: anonymous, not counted per user):
  // 429 TOOMANYREQUESTS when the repository holds --max-uploads-per-repository sessions or the
  // user has --max-uploads-per-user sessions open that it started through this instance
  // (sessions finished, cancelled or purged since no longer count). Thread-safe.
  std::optional<Response> check_new_session(Registry& registry, const std::string& repo, const std::string& user);
  // Remembers a session `user` started (nothing for anonymous). Thread-safe.
  void record_session(const std::string& user, const std::string& repo, const std::string& id);

  uint32_t max_tags_per_push() const { return settings()->config.max_tags_per_push; }
  // For tests and metrics: buckets kept by the address and user limiters.
  size_t address_buckets() const;
  size_t user_buckets() const;

 private:
  struct Session {
    std::string repo;
    std::string id;
  };
  // What reconfigure() replaces, swapped whole so a request sees one consistent set.
  struct Settings {
    LimitsConfig config;
    TrustedProxies proxies;
    std::shared_ptr<RateLimiter> address;  // null: off
    std::shared_ptr<RateLimiter> user;     // null: off
  };
  std::vector<Session> open_sessions(Registry& registry, const std::string& user);
  std::shared_ptr<const Settings> settings() const { return m_settings.load(); }
  std::shared_ptr<const Settings> make_settings(const LimitsConfig& config, const Settings* previous) const;

  RateLimiter::Now m_now;
  std::atomic<std::shared_ptr<const Settings>> m_settings;
  std::atomic<uint32_t> m_uploads{0};
  std::mutex m_sessions_mutex;
  std::unordered_map<std::string, std::vector<Session>> m_sessions;  // per user
};

// 429 TOOMANYREQUESTS with Retry-After: `seconds`.
Response too_many_requests(std::string_view message, std::chrono::seconds retry_after);

}  // namespace regd::daemon
