#include "rate_limit.h"

#include <algorithm>
#include <cmath>

namespace regd::daemon {

RateLimiter::RateLimiter(double rate, double burst, size_t max_entries, Now now)
    : m_rate(rate),
      m_burst(std::max(1.0, burst)),
      m_shard_capacity(std::max<size_t>(1, max_entries / k_shards)),
      m_now(std::move(now)) {}

double RateLimiter::refill(const Bucket& bucket, Clock::time_point now) const {
  double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  return std::min(m_burst, bucket.tokens + std::max(0.0, elapsed) * m_rate);
}

// A full bucket is what a new key gets, so dropping it is invisible. Only when every bucket
// is in use does the least recently updated one go (its client then starts with a full burst
// again: the table stays bounded however many addresses a client has).
void RateLimiter::make_room(Shard& shard, Clock::time_point now) const {
  std::erase_if(shard.buckets, [&](const auto& entry) { return refill(entry.second, now) >= m_burst; });
  if (shard.buckets.size() < m_shard_capacity) {
    return;
  }
  auto oldest = std::min_element(shard.buckets.begin(), shard.buckets.end(),
                                 [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
  shard.buckets.erase(oldest);
}

std::optional<std::chrono::seconds> RateLimiter::take(std::string_view key) {
  auto now = m_now();
  Shard& shard = m_shards[std::hash<std::string_view>{}(key) % k_shards];
  std::lock_guard lock(shard.mutex);
  auto found = shard.buckets.find(std::string(key));
  if (found == shard.buckets.end()) {
    if (shard.buckets.size() >= m_shard_capacity) {
      make_room(shard, now);
    }
    found = shard.buckets.emplace(std::string(key), Bucket{m_burst, now}).first;
  }
  Bucket& bucket = found->second;
  bucket.tokens = refill(bucket, now);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  double wait = (1.0 - bucket.tokens) / m_rate;
  return std::chrono::seconds(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait))));
}

size_t RateLimiter::size() const {
  size_t total = 0;
  for (const Shard& shard : m_shards) {
    std::lock_guard lock(shard.mutex);
    total += shard.buckets.size();
  }
  return total;
}

}  // namespace regd::daemon
