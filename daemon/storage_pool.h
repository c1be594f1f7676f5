// The bounded worker pool that blocking storage work runs on (--storage-threads): the upload
// body's writes and commits (fsync, rename), manifest PUTs, deletes, listings, referrers, the
// readiness probe. A session hands one call over with `co_await pool.run(f)` and resumes on its
// connection's event loop once it returns, so the I/O threads only move bytes between sockets and the page
// cache and never wait behind another request's disk work. A connection has at most one call
// here at a time: the queue is bounded by --max-connections. Engine file: includes Asio.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>  // before Asio (its awaitable header needs std::exchange)

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
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
    auto caller = co_await boost::asio::this_coro::executor;
    co_return co_await start(std::move(call), caller)->wait();
  }

  // A call started on a worker while the caller goes on (an upload's write of one buffer while
  // the socket fills the next). The caller must wait() for it before anything the call
  // references goes away; wait() resumes on the executor given to start().
  template <class Result>
  class Pending {
   public:
    explicit Pending(const boost::asio::any_io_executor& caller)
        : m_done(caller, boost::asio::steady_timer::time_point::max()) {}
    boost::asio::awaitable<Result> wait() {
      if (!m_result && !m_error) {
        boost::system::error_code ec;  // the worker's post cancels the timer
        co_await m_done.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      }
      if (m_error) {
        std::rethrow_exception(m_error);
      }
      co_return std::move(*m_result);
    }

   private:
    friend class StoragePool;
    boost::asio::steady_timer m_done;
    std::optional<Result> m_result;
    std::exception_ptr m_error;
  };

  template <class Call>
  std::shared_ptr<Pending<std::invoke_result_t<Call&>>> start(Call call, const boost::asio::any_io_executor& caller) {
    using Result = std::invoke_result_t<Call&>;
    auto pending = std::make_shared<Pending<Result>>(caller);
    m_metrics.storage_call_queued();
    boost::asio::post(m_pool, [this, pending, call = std::move(call)]() mutable {
      std::optional<Result> result;
      std::exception_ptr error;
      {
        m_metrics.storage_call_started();
        Finished finished{m_metrics};
        try {
          result.emplace(call());
        } catch (...) {
          error = std::current_exception();
        }
      }
      // Handed over on the caller's executor, so wait() never races with it.
      boost::asio::post(pending->m_done.get_executor(), [pending, result = std::move(result), error]() mutable {
        pending->m_result = std::move(result);
        pending->m_error = error;
        pending->m_done.cancel();
      });
    });
    return pending;
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
