#include "request_limits.h"

#include <algorithm>
#include <cmath>

#include "error_table.h"

namespace regd::daemon {
namespace {

std::unique_ptr<RateLimiter> make_limiter(double rate, const LimitsConfig& config, RateLimiter::Now now) {
  if (rate <= 0) {
    return nullptr;
  }
  double burst = config.rate_limit_burst > 0 ? config.rate_limit_burst : std::ceil(rate);
  return std::make_unique<RateLimiter>(rate, burst, config.rate_limit_entries, std::move(now));
}

}  // namespace

Response too_many_requests(std::string_view message, std::chrono::seconds retry_after) {
  auto r = error_response(429, "TOOMANYREQUESTS", message);
  r.set("Retry-After", std::to_string(retry_after.count()));
  return r;
}

Limits::Limits(const LimitsConfig& config, RateLimiter::Now now)
    : m_config(config),
      m_proxies(TrustedProxies::parse(config.trusted_proxies).value_or(TrustedProxies{})),
      m_address(make_limiter(config.rate_limit_address, config, now)),
      m_user(make_limiter(config.rate_limit_user, config, now)) {}

std::optional<Response> Limits::check_address(const Request& request) {
  if (!m_address) {
    return std::nullopt;
  }
  if (auto wait = m_address->take(m_proxies.client_of(request))) {
    return too_many_requests("too many requests from this address", *wait);
  }
  return std::nullopt;
}

std::optional<Response> Limits::check_user(const Request& request) {
  if (!m_user || request.user.empty()) {
    return std::nullopt;
  }
  if (auto wait = m_user->take(request.user)) {
    return too_many_requests("too many requests for user " + request.user, *wait);
  }
  return std::nullopt;
}

std::expected<std::unique_ptr<Limits::UploadSlot>, Response> Limits::upload_slot() {
  uint32_t cap = m_config.max_concurrent_uploads;
  uint32_t held = m_uploads.fetch_add(1) + 1;
  auto slot = std::make_unique<UploadSlot>(m_uploads);
  if (cap != 0 && held > cap) {
    return std::unexpected(too_many_requests("this instance is receiving " + std::to_string(cap) + " uploads already",
                                             std::chrono::seconds(1)));
  }
  return slot;
}

// The user's remembered sessions that still exist; those gone (finished, cancelled, purged by
// GC, here or on any instance) are forgotten. Storage is read outside the lock.
std::vector<Limits::Session> Limits::open_sessions(Registry& registry, const std::string& user) {
  std::vector<Session> remembered;
  {
    std::lock_guard lock(m_sessions_mutex);
    auto found = m_sessions.find(user);
    if (found != m_sessions.end()) {
      remembered = found->second;
    }
  }
  std::vector<Session> open;
  for (Session& session : remembered) {
    auto status = registry.upload_status(session.repo, session.id);
    if (status || status.error().code != Errc::upload_unknown) {
      open.push_back(std::move(session));
    }
  }
  std::lock_guard lock(m_sessions_mutex);
  auto& kept = m_sessions[user];
  std::erase_if(kept, [&](const Session& s) {
    return std::none_of(open.begin(), open.end(), [&](const Session& o) { return o.id == s.id; }) &&
           std::any_of(remembered.begin(), remembered.end(), [&](const Session& r) { return r.id == s.id; });
  });
  if (kept.empty()) {
    m_sessions.erase(user);
  }
  return open;
}

std::optional<Response> Limits::check_new_session(Registry& registry, const std::string& repo,
                                                  const std::string& user) {
  if (uint32_t cap = m_config.max_uploads_per_repository; cap != 0) {
    auto count = registry.count_uploads(repo);
    if (count && *count >= cap) {
      return too_many_requests("repository " + repo + " has " + std::to_string(cap) + " upload sessions open",
                               std::chrono::seconds(60));
    }
  }
  if (uint32_t cap = m_config.max_uploads_per_user; cap != 0 && !user.empty()) {
    bool at_cap = false;
    {
      std::lock_guard lock(m_sessions_mutex);
      auto found = m_sessions.find(user);
      at_cap = found != m_sessions.end() && found->second.size() >= cap;
    }
    if (at_cap && open_sessions(registry, user).size() >= cap) {
      return too_many_requests("user " + user + " has " + std::to_string(cap) + " upload sessions open",
                               std::chrono::seconds(60));
    }
  }
  return std::nullopt;
}

void Limits::record_session(const std::string& user, const std::string& repo, const std::string& id) {
  if (user.empty() || m_config.max_uploads_per_user == 0) {
    return;
  }
  std::lock_guard lock(m_sessions_mutex);
  m_sessions[user].push_back(Session{repo, id});
}

}  // namespace regd::daemon
