// The bounded worker pool that blocking storage work runs on (--storage-threads): the upload
// body's writes and commits (fsync, rename), manifest PUTs, deletes, listings, referrers, the
// readiness probe. A session hands one call over with `co_await pool.run(f)` and resumes on its
// connection's event loop once it returns, so the I/O threads only move bytes between sockets and the page
// cache and never wait behind another request's disk work. A connection has at most one call
// here at a time: the queue is bounded by --max-connections. Engine file: includes Asio.
#pragma once

#include <type_traits>
#include <utility>  // before Asio (its awaitable header needs std::exchange)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "metrics.h"

namespace regd::daemon {

class StoragePool {
 public:
  StoragePool(unsigned threads, Metrics& metrics) : m_pool(threads), m_metrics(metrics) {}
  ~StoragePool() { m_pool.join(); }
  StoragePool(const StoragePool&) = delete;
  StoragePool& operator=(const StoragePool&) = delete;

  // Runs `call` on a worker and returns its result on the caller's executor. An exception
  // `call` throws is rethrown in the caller. `call` may hold references into the caller's
  // frame: the caller is suspended until it returns.
  template <class Call>
  boost::asio::awaitable<std::invoke_result_t<Call&>> run(Call call) {
    using Result = std::invoke_result_t<Call&>;
    m_metrics.storage_call_queued();
    co_return co_await boost::asio::co_spawn(
        m_pool.get_executor(),
        [this, call = std::move(call)]() mutable -> boost::asio::awaitable<Result> {
          m_metrics.storage_call_started();
          Finished finished{m_metrics};
          co_return call();
        },
        boost::asio::use_awaitable);
  }

  // Waits for the calls in progress and stops the workers (the server's shutdown).
  void join() { m_pool.join(); }

 private:
  struct Finished {
    Metrics& metrics;
    ~Finished() { metrics.storage_call_finished(); }
  };
  boost::asio::thread_pool m_pool;
  Metrics& m_metrics;
};

}  // namespace regd::daemon
