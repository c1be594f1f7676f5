#include "watchdog.h"

namespace regd::daemon {

Watchdog::Watchdog(std::chrono::microseconds interval, unsigned threads, Clock::time_point now)
    : m_interval(std::chrono::duration_cast<Clock::duration>(interval)),
      m_threads(threads),
      m_beats(std::make_unique<std::atomic<Clock::rep>[]>(threads)) {
  for (unsigned i = 0; i < m_threads; ++i) {
    m_beats[i].store(now.time_since_epoch().count(), std::memory_order_relaxed);
  }
}

void Watchdog::beat(unsigned index, Clock::time_point now) {
  m_beats[index].store(now.time_since_epoch().count(), std::memory_order_relaxed);
}

bool Watchdog::alive(Clock::time_point now) const {
  auto oldest_allowed = (now - period()).time_since_epoch().count();
  for (unsigned i = 0; i < m_threads; ++i) {
    if (m_beats[i].load(std::memory_order_relaxed) < oldest_allowed) {
      return false;
    }
  }
  return true;
}

}  // namespace regd::daemon
