#include "server.h"

#include <atomic>
#include <csignal>
#include <optional>
#include <string>
#include <thread>
#include <utility>  // before Asio (its awaitable header needs std::exchange)
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "exit_codes.h"
#include "log.h"
#include "sd_notify.h"
#include "session.h"
#include "watchdog.h"

namespace regd::daemon {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::vector<std::unique_ptr<asio::io_context>> first_loop() {
  std::vector<std::unique_ptr<asio::io_context>> loops;
  loops.push_back(std::make_unique<asio::io_context>(1));
  return loops;
}

}  // namespace

struct Server::Impl {
  explicit Impl(Context& c)
      : ctx(c),
        loops(first_loop()),
        io(*loops[0]),
        control(asio::make_strand(io)),
        acceptor(control),
        signals(control, SIGINT, SIGTERM),
        reload(control, SIGHUP),
        timer(control),
        watchdog_timer(control),
        pool(storage_threads(c.config), c.state.metrics) {}

  void wait_signal();
  void wait_reload();
  void begin_drain(int signal);
  void stop_accepting();
  void poll_drain();
  asio::awaitable<void> accept_loop();
  void refuse(tcp::socket& socket);
  void run_loop(unsigned index);
  void keep_alive();
  void stop_loops();
  std::string serving_status() const;

  Context& ctx;
  // One event loop per I/O thread, each run by that thread alone (concurrency hint 1), as nginx
  // runs one per worker: a connection lives on the loop that accepted it, so its socket
  // readiness and its handlers never hand over between threads (with one io_context shared by
  // all threads, every completion went through a strand and woke another thread: more than half
  // of regd's CPU on a 64 MiB blob GET was futex and scheduler wake-ups). Only a storage pool
  // call crosses threads, there and back.
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  asio::io_context& io;                                   // loops[0]: also the acceptor, signals and timers
  asio::strand<asio::io_context::executor_type> control;  // acceptor, signals and timer live here
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::signal_set reload;  // SIGHUP: ServerState::reloaders
  asio::steady_timer timer;
  asio::steady_timer watchdog_timer;
  // After `io`: destroyed (joined) first, so a storage call finishing late still has its
  // connection's executor to complete on.
  StoragePool pool;
  std::optional<Watchdog> watchdog;  // WatchdogSec= of the unit; set before the threads start
  ConnectionTracker tracker;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> forced{false};  // a second signal stopped the drain
  uint64_t refused = 0;             // connections closed over --max-connections (control strand)
  std::chrono::steady_clock::time_point last_refusal_log;
  size_t next_loop = 0;  // round robin over `loops` (control strand)
};

void Server::Impl::stop_loops() {
  for (auto& loop : loops) {
    loop->stop();
  }
}

void Server::Impl::wait_signal() {
  signals.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) {
      return;
    }
    if (ctx.state.draining) {
      log(LogLevel::warn, "second signal, stopping now", {{"signal", signal}, {"exit_status", k_exit_forced}});
      forced = true;
      stop_loops();
      return;
    }
    begin_drain(signal);
    wait_signal();
  });
}

// Reloads run on the control strand, one SIGHUP at a time; the I/O threads keep serving.
void Server::Impl::wait_reload() {
  reload.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) {
      return;
    }
    notify_reloading("reloading");
    ctx.state.reloaders.run();
    if (!ctx.state.draining) {
      notify_ready(serving_status());
    }
    wait_reload();
  });
}

void Server::Impl::begin_drain(int signal) {
  ctx.state.draining = true;
  notify_stopping("draining (signal " + std::to_string(signal) + ")");
  log(LogLevel::info, "draining", {{"signal", signal}, {"drain_delay_s", ctx.config.drain_delay}});
  timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(ctx.config.drain_delay)));
  timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      stop_accepting();
    }
  });
}

void Server::Impl::stop_accepting() {
  ctx.state.closing = true;
  boost::system::error_code ec;
  acceptor.close(ec);
  reload.cancel(ec);
  tracker.close_idle();
  deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                    std::chrono::duration<double>(ctx.config.drain_timeout));
  poll_drain();
}

// Waits (bounded by drain_timeout) for in-flight requests, polling: connections finish on
// their own loops and there is no cheaper portable way to be woken by the last one.
void Server::Impl::poll_drain() {
  auto open = tracker.size();
  if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (open > 0) {
      log(LogLevel::warn, "drain timeout, closing connections", {{"open", open}});
    }
    log(LogLevel::info, "stopped");
    stop_loops();
    return;
  }
  timer.expires_after(std::chrono::milliseconds(20));
  timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      poll_drain();
    }
  });
}

asio::awaitable<void> Server::Impl::accept_loop() {
  while (acceptor.is_open()) {
    tcp::socket socket(*loops[next_loop++ % loops.size()]);
    boost::system::error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
      co_return;
    }
    if (ec) {
      // EMFILE and friends: back off instead of spinning.
      log(LogLevel::error, "accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(control, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (tracker.size() >= ctx.config.max_connections) {
      refuse(socket);
      continue;
    }
    start_session(std::move(socket), ctx, pool, tracker);
  }
}

// Over --max-connections: the new connection is closed at once (the client sees a reset or an
// empty reply and may retry; a load balancer moves on). Logged at most every 10 s.
void Server::Impl::refuse(tcp::socket& socket) {
  boost::system::error_code ec;
  socket.set_option(asio::socket_base::linger(true, 0), ec);
  socket.close(ec);
  ++refused;
  auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log >= std::chrono::seconds(10)) {
    last_refusal_log = now;
    log(LogLevel::warn, "connection limit reached, closing new connections",
        {{"max_connections", ctx.config.max_connections}, {"refused", refused}});
  }
}

// An I/O thread. With the watchdog on, it leaves the event loop every slice to beat: a thread
// that does not come back (stuck in a handler) stops the keep-alives.
void Server::Impl::run_loop(unsigned index) {
  auto& loop = *loops[index];
  if (!watchdog) {
    loop.run();
    return;
  }
  while (!loop.stopped()) {
    loop.run_for(watchdog->slice());
    watchdog->beat(index, Watchdog::Clock::now());
  }
}

// Runs on the control strand every half watchdog interval, so a wedged control strand (acceptor,
// signals, drain) stops the keep-alives too.
void Server::Impl::keep_alive() {
  if (watchdog->alive(Watchdog::Clock::now())) {
    notify_watchdog();
  }
  watchdog_timer.expires_after(watchdog->period());
  watchdog_timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      keep_alive();
    }
  });
}

std::string Server::Impl::serving_status() const {
  boost::system::error_code ec;
  auto endpoint = acceptor.local_endpoint(ec);
  return "serving on " + endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

Server::Server(Context& ctx) : m_impl(std::make_unique<Impl>(ctx)) {}
Server::~Server() = default;

Status Server::listen(const ListenAddress& address) {
  boost::system::error_code ec;
  tcp::resolver resolver(m_impl->io);
  auto host = address.host.empty() ? std::string("0.0.0.0") : address.host;
  auto results = resolver.resolve(host, std::to_string(address.port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return fail(Errc::io_error, "cannot resolve " + host + ": " + ec.message());
  }
  auto endpoint = results.begin()->endpoint();
  auto& acceptor = m_impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return fail(Errc::io_error, "cannot listen on " + host + ":" + std::to_string(address.port) + ": " + ec.message());
  }
  return {};
}

void Server::stop() {
  m_impl->stop_loops();
}

uint16_t Server::port() const {
  boost::system::error_code ec;
  return m_impl->acceptor.local_endpoint(ec).port();
}

int Server::run(unsigned threads) {
  threads = std::max(threads, 1u);
  while (m_impl->loops.size() < threads) {
    m_impl->loops.push_back(std::make_unique<asio::io_context>(1));
  }
  for (auto& loop : m_impl->loops) {
    m_impl->keep_running.push_back(asio::make_work_guard(*loop));  // a loop without connections yet
  }
  m_impl->wait_signal();
  m_impl->wait_reload();
  asio::co_spawn(m_impl->control, m_impl->accept_loop(), asio::detached);
  if (auto interval = watchdog_interval()) {
    m_impl->watchdog.emplace(*interval, threads, Watchdog::Clock::now());
    log(LogLevel::info, "systemd watchdog on", {{"interval_ms", interval->count() / 1000}});
    m_impl->keep_alive();
  }
  notify_ready(m_impl->serving_status());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < m_impl->loops.size(); ++i) {
    pool.emplace_back([this, i] { m_impl->run_loop(i); });
  }
  m_impl->run_loop(0);
  for (auto& t : pool) {
    t.join();
  }
  m_impl->pool.join();
  return m_impl->forced ? k_exit_forced : k_exit_ok;
}

}  // namespace regd::daemon
