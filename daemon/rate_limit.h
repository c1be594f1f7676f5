// Token buckets per key (a client address, a user name) for the per-instance rate limits
// (docs/security.md, "Rate limits and quotas"). Each instance limits on its own: nothing is
// shared between instances, so the fleet's total is the limit times the number of instances.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace regd::daemon {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  // `rate` tokens per second refill a bucket of `burst` tokens (at least 1); a request takes one.
  // At most `max_entries` buckets are kept: idle ones (refilled to full, so forgetting them
  // changes nothing) go first, then the least recently used. `now` is the clock (tests inject
  // one). REQUIRES: rate > 0, max_entries > 0.
  RateLimiter(double rate, double burst, size_t max_entries, Now now = Clock::now);

  // Takes a token from `key`'s bucket: nullopt when there was one, else the whole seconds
  // (at least 1, rounded up) until there is. Thread-safe: the keys are spread over shards,
  // each with its own mutex, so requests of different clients rarely wait for each other.
  std::optional<std::chrono::seconds> take(std::string_view key);

  // Buckets currently kept (every shard). Thread-safe.
  size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr size_t k_shards = 16;

  double refill(const Bucket& bucket, Clock::time_point now) const;
  void make_room(Shard& shard, Clock::time_point now) const;

  double m_rate;
  double m_burst;
  size_t m_shard_capacity;
  Now m_now;
  std::array<Shard, k_shards> m_shards;
};

}  // namespace regd::daemon
