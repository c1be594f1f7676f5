#include "request_limits.h"

#include <algorithm>
#include <cmath>

#include "error_table.h"

namespace regd::daemon {
namespace {

// The limiter for `rate` under `config`; `previous` (its counterpart under `before`) when that
// one limits alike, so a reload that leaves a rate alone keeps every client's bucket.
std::shared_ptr<RateLimiter> make_limiter(double rate, const LimitsConfig& config, RateLimiter::Now now,
                                          double before_rate, const LimitsConfig* before,
                                          std::shared_ptr<RateLimiter> previous) {
  if (rate <= 0) {
    return nullptr;
  }
  if (previous && before && before_rate == rate && before->rate_limit_burst == config.rate_limit_burst &&
      before->rate_limit_entries == config.rate_limit_entries) {
    return previous;
  }
  double burst = config.rate_limit_burst > 0 ? config.rate_limit_burst : std::ceil(rate);
  return std::make_shared<RateLimiter>(rate, burst, config.rate_limit_entries, std::move(now));
}

}  // namespace

Response too_many_requests(std::string_view message, std::chrono::seconds retry_after) {
  auto r = error_response(429, "TOOMANYREQUESTS", message);
  r.set("Retry-After", std::to_string(retry_after.count()));
  return r;
}

Limits::Limits(const LimitsConfig& config, RateLimiter::Now now) : m_now(std::move(now)) {
  m_settings.store(make_settings(config, nullptr));
}

std::shared_ptr<const Limits::Settings> Limits::make_settings(const LimitsConfig& config,
                                                              const Settings* previous) const {
  auto next = std::make_shared<Settings>();
  next->config = config;
  next->proxies = TrustedProxies::parse(config.trusted_proxies).value_or(TrustedProxies{});
  const LimitsConfig* before = previous ? &previous->config : nullptr;
  next->address = make_limiter(config.rate_limit_address, config, m_now, before ? before->rate_limit_address : 0,
                               before, previous ? previous->address : nullptr);
  next->user = make_limiter(config.rate_limit_user, config, m_now, before ? before->rate_limit_user : 0, before,
                            previous ? previous->user : nullptr);
  return next;
}

bool Limits::reconfigure(const LimitsConfig& config) {
  auto current = settings();
  if (current->config == config) {
    return false;
  }
  m_settings.store(make_settings(config, current.get()));
  return true;
}

size_t Limits::address_buckets() const {
  auto s = settings();
  return s->address ? s->address->size() : 0;
}

size_t Limits::user_buckets() const {
  auto s = settings();
  return s->user ? s->user->size() : 0;
}

std::optional<Response> Limits::check_address(const Request& request) {
  auto s = settings();
  if (!s->address) {
    return std::nullopt;
  }
  if (auto wait = s->address->take(s->proxies.client_of(request))) {
    return too_many_requests("too many requests from this address", *wait);
  }
  return std::nullopt;
}

std::optional<Response> Limits::check_user(const Request& request) {
  auto s = settings();
  if (!s->user || request.user.empty()) {
    return std::nullopt;
  }
  if (auto wait = s->user->take(request.user)) {
    return too_many_requests("too many requests for user " + request.user, *wait);
  }
  return std::nullopt;
}

std::expected<std::unique_ptr<Limits::UploadSlot>, Response> Limits::upload_slot() {
  uint32_t cap = settings()->config.max_concurrent_uploads;
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
  auto s = settings();
  if (uint32_t cap = s->config.max_uploads_per_repository; cap != 0) {
    auto count = registry.count_uploads(repo);
    if (count && *count >= cap) {
      return too_many_requests("repository " + repo + " has " + std::to_string(cap) + " upload sessions open",
                               std::chrono::seconds(60));
    }
  }
  if (uint32_t cap = s->config.max_uploads_per_user; cap != 0 && !user.empty()) {
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
  if (user.empty() || settings()->config.max_uploads_per_user == 0) {
    return;
  }
  std::lock_guard lock(m_sessions_mutex);
  m_sessions[user].push_back(Session{repo, id});
}

}  // namespace regd::daemon
