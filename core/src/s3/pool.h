// Clients of one bucket for many threads: a cpp-httplib client sends one request at a time, so
// each caller borrows a client (its own keep-alive connection) and gives it back. Private to the
// S3 backend.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "s3/client.h"

namespace regd::s3 {

class ClientPool {
 public:
  explicit ClientPool(Endpoint endpoint) : m_endpoint(std::move(endpoint)) {}

  class Lease {
   public:
    Lease(ClientPool& pool, std::unique_ptr<Client> client) : m_pool(pool), m_client(std::move(client)) {}
    ~Lease() { m_pool.give_back(std::move(m_client)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Client* operator->() { return m_client.get(); }
    Client& operator*() { return *m_client; }

   private:
    ClientPool& m_pool;
    std::unique_ptr<Client> m_client;
  };

  Lease get() {
    {
      std::lock_guard lock(m_mutex);
      if (!m_idle.empty()) {
        auto client = std::move(m_idle.back());
        m_idle.pop_back();
        return Lease(*this, std::move(client));
      }
    }
    return Lease(*this, std::make_unique<Client>(m_endpoint));
  }

  const Endpoint& endpoint() const { return m_endpoint; }

 private:
  // Idle connections kept, at most: more than the busiest instance's concurrent storage calls.
  static constexpr size_t k_max_idle = 64;

  void give_back(std::unique_ptr<Client> client) {
    std::lock_guard lock(m_mutex);
    if (m_idle.size() < k_max_idle) {
      m_idle.push_back(std::move(client));
    }
  }

  Endpoint m_endpoint;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<Client>> m_idle;
};

}  // namespace regd::s3
