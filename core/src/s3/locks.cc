#include "s3/locks.h"

#include <algorithm>
#include <charconv>

namespace regd::s3 {

namespace {

constexpr size_t k_generation_digits = 20;
constexpr auto k_poll = std::chrono::milliseconds(100);

std::string generation_key(const std::string& key, uint64_t generation) {
  std::string digits = std::to_string(generation);
  return key + "/" + std::string(k_generation_digits - digits.size(), '0') + digits;
}

}  // namespace

class HeldLock : public Lock {
 public:
  HeldLock(LockTable& table, std::shared_ptr<LockTable::Held> held) : m_table(table), m_held(std::move(held)) {}
  ~HeldLock() override { m_table.release(m_held); }

 private:
  LockTable& m_table;
  std::shared_ptr<LockTable::Held> m_held;
};

LockTable::LockTable(Bucket& bucket, std::chrono::seconds ttl) : m_bucket(bucket), m_ttl(ttl) {}

LockTable::~LockTable() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_renewer.joinable()) {
    m_renewer.join();
  }
}

// True when `held` now holds the lock at `key`; false when someone else does.
Result<bool> LockTable::try_take(const std::string& key, Held& held) {
  auto client = m_bucket.pool.get();
  auto page = client->list(key + "/", "", "");
  if (!page) {
    return std::unexpected(page.error());
  }
  std::vector<uint64_t> generations;
  const ListedObject* top = nullptr;
  for (const ListedObject& object : page->objects) {
    std::string_view name = std::string_view(object.key).substr(key.size() + 1);
    uint64_t generation = 0;
    auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), generation);
    if (ec != std::errc() || ptr != name.data() + name.size() || name.size() != k_generation_digits) {
      continue;
    }
    generations.push_back(generation);
    top = &object;  // keys come in order: the last one is the highest
  }
  if (top != nullptr && top->info.last_modified + m_ttl > page->server_time) {
    return false;
  }
  uint64_t next = generations.empty() ? 0 : generations.back() + 1;
  auto created = client->put(generation_key(key, next), "", true);
  if (!created) {
    return created.error().code == Errc::exists ? Result<bool>(false) : std::unexpected(created.error());
  }
  // Expired generations are ours to clear now.
  for (uint64_t generation : generations) {
    (void)client->remove(generation_key(key, generation));
  }
  held.key = key;
  held.generation = next;
  return true;
}

Result<std::unique_ptr<Lock>> LockTable::acquire(const std::string& key, bool wait) {
  auto held = std::make_shared<Held>();
  for (;;) {
    auto taken = try_take(key, *held);
    if (!taken) {
      return std::unexpected(taken.error());
    }
    if (*taken) {
      break;
    }
    if (!wait) {
      return fail(Errc::conflict, m_bucket.shown(key) + " is locked");
    }
    std::this_thread::sleep_for(k_poll);
  }
  {
    std::lock_guard lock(m_mutex);
    m_held.push_back(held);
    if (!m_renewer.joinable()) {
      m_renewer = std::thread([this] { renew_loop(); });
    }
  }
  return std::unique_ptr<Lock>(new HeldLock(*this, held));
}

// Each held lock moves to its next generation every third of the TTL. A create that loses
// (someone took over an expired lock: this process stalled) leaves the lock to the winner.
void LockTable::renew_loop() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    m_wake.wait_for(lock, m_ttl / 3, [&] { return m_stopping; });
    if (m_stopping) {
      break;
    }
    auto held = m_held;
    lock.unlock();
    for (const auto& entry : held) {
      std::lock_guard guard(entry->mutex);
      if (entry->released) {
        continue;
      }
      auto client = m_bucket.pool.get();
      if (client->put(generation_key(entry->key, entry->generation + 1), "", true)) {
        (void)client->remove(generation_key(entry->key, entry->generation));
        ++entry->generation;
      }
    }
    lock.lock();
  }
}

void LockTable::release(const std::shared_ptr<Held>& held) {
  {
    std::lock_guard guard(held->mutex);
    held->released = true;
    (void)m_bucket.pool.get()->remove(generation_key(held->key, held->generation));
  }
  std::lock_guard lock(m_mutex);
  std::erase(m_held, held);
}

}  // namespace regd::s3
