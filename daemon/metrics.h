// Process-wide counters exported at /metrics in the Prometheus text format. Lock-free.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace regd::daemon {

class Metrics {
 public:
  // One finished request: its status code and the body bytes received and sent.
  void record(unsigned status, uint64_t bytes_in, uint64_t bytes_out, std::chrono::microseconds duration);
  void connection_opened() {
    ++m_connections_open;
    ++m_connections_total;
  }
  void connection_closed() { --m_connections_open; }
  void request_started() { ++m_in_flight; }
  void request_finished() { --m_in_flight; }
  int64_t connections_open() const { return m_connections_open; }

  // The exposition text (text/plain; version=0.0.4).
  std::string render() const;

 private:
  std::array<std::atomic<uint64_t>, 6> m_by_class{};  // index status/100 (0: other)
  std::atomic<uint64_t> m_bytes_in{0};
  std::atomic<uint64_t> m_bytes_out{0};
  std::atomic<uint64_t> m_duration_us{0};
  std::atomic<int64_t> m_in_flight{0};
  std::atomic<int64_t> m_connections_open{0};
  std::atomic<uint64_t> m_connections_total{0};
  std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
};

}  // namespace regd::daemon
