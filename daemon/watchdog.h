// The event loops' side of systemd's watchdog (WatchdogSec=, docs/install.md): WATCHDOG=1 is due
// only while every I/O thread keeps returning to its event loop, so one thread stuck in a handler
// (a hung storage mount, a deadlock) stops the keep-alives and systemd restarts regd.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

namespace regd::daemon {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // `interval`: the service manager's WATCHDOG_USEC (> 0); `threads` (>= 1): the I/O threads
  // that beat, each counted as alive at `now`.
  Watchdog(std::chrono::microseconds interval, unsigned threads, Clock::time_point now);

  // How long an I/O thread may run handlers before it beats: a quarter of the interval.
  Clock::duration slice() const { return m_interval / 4; }
  // How often the keep-alive is checked and sent: half the interval, as sd_watchdog_enabled(3)
  // recommends.
  Clock::duration period() const { return m_interval / 2; }

  // I/O thread `index` (< threads) is in its event loop at `now`. Thread-safe.
  void beat(unsigned index, Clock::time_point now);
  // Whether every I/O thread beat within period() before `now`: then WATCHDOG=1 is due.
  // Thread-safe.
  bool alive(Clock::time_point now) const;

 private:
  Clock::duration m_interval;
  unsigned m_threads;
  std::unique_ptr<std::atomic<Clock::rep>[]> m_beats;  // per thread: time_since_epoch().count()
};

}  // namespace regd::daemon
