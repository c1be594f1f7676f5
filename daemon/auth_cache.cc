#include "auth_cache.h"

#include <cstring>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace regd::daemon {

CredentialCache::CredentialCache(Clock::duration ttl, size_t capacity) : m_ttl(ttl), m_capacity(capacity) {
  std::array<unsigned char, SHA256_CBLOCK> inner{};
  if (RAND_bytes(inner.data(), 32) != 1) {  // the key: 32 random bytes, zero-padded to a block
    throw std::runtime_error("no random bytes for the credential cache key");
  }
  auto outer = inner;
  for (size_t i = 0; i < inner.size(); ++i) {
    inner[i] ^= 0x36;
    outer[i] ^= 0x5c;
  }
  SHA256_Init(&m_inner);
  SHA256_Update(&m_inner, inner.data(), inner.size());
  SHA256_Init(&m_outer);
  SHA256_Update(&m_outer, outer.data(), outer.size());
  OPENSSL_cleanse(inner.data(), inner.size());
  OPENSSL_cleanse(outer.data(), outer.size());
}

size_t CredentialCache::KeyHash::operator()(const Key& key) const {
  size_t h = 0;
  std::memcpy(&h, key.data(), sizeof h);  // already uniformly distributed: an HMAC
  return h;
}

CredentialCache::Key CredentialCache::key_of(std::string_view header) const {
  Key key{};
  SHA256_CTX ctx = m_inner;
  SHA256_Update(&ctx, header.data(), header.size());
  SHA256_Final(key.data(), &ctx);
  ctx = m_outer;
  SHA256_Update(&ctx, key.data(), key.size());
  SHA256_Final(key.data(), &ctx);
  return key;
}

std::shared_ptr<const Identity> CredentialCache::find(std::string_view header, Clock::time_point now) {
  if (m_ttl <= Clock::duration::zero()) {
    return nullptr;
  }
  auto key = key_of(header);
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(key);
  if (it == m_entries.end()) {
    return nullptr;
  }
  if (now >= it->second.expires) {
    m_entries.erase(it);  // its m_order entry goes when it reaches the front
    return nullptr;
  }
  return it->second.identity;
}

void CredentialCache::insert(std::string_view header, std::shared_ptr<const Identity> identity, Clock::time_point now,
                             Clock::time_point until) {
  if (m_ttl <= Clock::duration::zero() || m_capacity == 0) {
    return;
  }
  auto key = key_of(header);
  auto expires = std::min(now + m_ttl, until);
  std::lock_guard lock(m_mutex);
  auto [it, inserted] = m_entries.insert_or_assign(key, Entry{std::move(identity), expires});
  if (!inserted) {
    return;  // already queued for eviction
  }
  m_order.push_back(key);
  // Evict the oldest; keys already erased as expired are skipped. m_order never holds more than
  // m_entries plus the expired ones, and a full pass trims both.
  while (m_entries.size() > m_capacity || m_order.size() > 2 * m_capacity) {
    auto oldest = m_order.front();
    m_order.pop_front();
    if (auto found = m_entries.find(oldest);
        found != m_entries.end() && (m_entries.size() > m_capacity || now >= found->second.expires)) {
      m_entries.erase(found);
    }
  }
}

size_t CredentialCache::size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

}  // namespace regd::daemon
