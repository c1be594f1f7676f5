// Verified credentials, remembered briefly so that a client sending the same Authorization
// header on every request pays for bcrypt or a signature check once per --auth-cache-ttl. Keys
// are HMAC-SHA256 of the header value under a random per-cache key: neither a password nor a
// token is kept, and a memory dump does not give the cache's keys away. Failed credentials are
// never stored. Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include <openssl/sha.h>

namespace regd::daemon {

struct Identity;

class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Key = std::array<unsigned char, 32>;

  // `ttl` 0 disables the cache; at most `capacity` entries (the oldest go first).
  CredentialCache(Clock::duration ttl, size_t capacity);

  // The identity stored for `header`, or null when absent or expired at `now`.
  std::shared_ptr<const Identity> find(std::string_view header, Clock::time_point now);
  // Stores `identity` for `header` until now + ttl, or `until` when that is sooner (a token's
  // expiry).
  void insert(std::string_view header, std::shared_ptr<const Identity> identity, Clock::time_point now,
              Clock::time_point until = Clock::time_point::max());
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const Identity> identity;
    Clock::time_point expires;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const;
  };
  Key key_of(std::string_view header) const;

  Clock::duration m_ttl;
  size_t m_capacity;
  // HMAC-SHA256 (RFC 2104) under a random key that never leaves the process, with the key's
  // inner and outer blocks hashed once here: a lookup then costs two SHA-256 runs over a few
  // bytes. OpenSSL 3's one-shot HMAC() fetched the algorithm and allocated contexts on every
  // call, 7 % of an authenticated manifest GET's CPU.
  SHA256_CTX m_inner{};
  SHA256_CTX m_outer{};
  mutable std::mutex m_mutex;
  std::unordered_map<Key, Entry, KeyHash> m_entries;
  std::deque<Key> m_order;  // insertion order, for eviction
};

}  // namespace regd::daemon
