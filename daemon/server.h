// The listening side of regd: N event loops (Asio io_contexts), one per I/O thread, the
// acceptor, signal handling and the graceful drain. Beast and Asio stay out of this header.
#pragma once

#include <cstdint>
#include <memory>

#include "config.h"
#include "context.h"
#include "regd/error.h"

namespace regd::daemon {

class Server {
 public:
  explicit Server(Context& ctx);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (backlog SOMAXCONN). Errors: io_error (address in use, unresolvable).
  [[nodiscard]] Status listen(const ListenAddress& address);
  // The bound port (useful with port 0).
  uint16_t port() const;

  // Serves on `threads` threads until SIGTERM or SIGINT, then drains: /readyz turns 503, after
  // Config::drain_delay accepting stops and idle connections close, in-flight requests get
  // Config::drain_timeout to finish. A second signal stops at once. Returns the exit code:
  // k_exit_ok after the drain, k_exit_forced after a second signal (exit_codes.h).
  int run(unsigned threads);
  // Ends run() at once, without a drain (tests that serve in-process). Thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace regd::daemon
