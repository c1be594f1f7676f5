// Locks on an object store (docs/adr/0002): a lock at key K is held by whoever created the
// highest generation K/<n> (20 digits) with a conditional create (If-None-Match: *, one winner),
// until that object is older than the TTL by the store's own clock. Holders renew every third of
// the TTL by creating the next generation, so only a dead or stalled holder's lock expires; taking
// over an expired lock is again a create of the next generation, never a delete-and-recreate
// (which would let two takers win). Private to core/src/s3/.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "regd/storage.h"
#include "s3/bucket.h"

namespace regd::s3 {

class LockTable {
 public:
  LockTable(Bucket& bucket, std::chrono::seconds ttl);
  ~LockTable();
  LockTable(const LockTable&) = delete;
  LockTable& operator=(const LockTable&) = delete;

  // Takes the lock at `key`; with wait=false a live holder is conflict, with wait=true it is
  // waited out (polling). Errors: conflict, denied, io_error.
  Result<std::unique_ptr<Lock>> acquire(const std::string& key, bool wait);

  struct Held {
    std::mutex mutex;
    std::string key;
    uint64_t generation = 0;
    bool released = false;
  };

 private:
  Result<bool> try_take(const std::string& key, Held& held);
  void renew_loop();
  void release(const std::shared_ptr<Held>& held);
  friend class HeldLock;

  Bucket& m_bucket;
  std::chrono::seconds m_ttl;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::vector<std::shared_ptr<Held>> m_held;
  bool m_stopping = false;
  std::thread m_renewer;  // started with the first lock
};

}  // namespace regd::s3
