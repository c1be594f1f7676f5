#include "metrics.h"

namespace regd::daemon {

void Metrics::record(unsigned status, uint64_t bytes_in, uint64_t bytes_out, std::chrono::microseconds duration) {
  size_t cls = status >= 100 && status < 600 ? status / 100 : 0;
  ++m_by_class[cls];
  m_bytes_in += bytes_in;
  m_bytes_out += bytes_out;
  m_duration_us += static_cast<uint64_t>(duration.count());
}

std::string Metrics::render() const {
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  line("# HELP regd_http_requests_total HTTP requests served, by status class.");
  line("# TYPE regd_http_requests_total counter");
  for (size_t cls = 1; cls < m_by_class.size(); ++cls) {
    line("regd_http_requests_total{code=\"" + std::to_string(cls) + "xx\"} " + std::to_string(m_by_class[cls].load()));
  }
  line("# HELP regd_http_request_duration_seconds_total Time spent serving requests.");
  line("# TYPE regd_http_request_duration_seconds_total counter");
  line("regd_http_request_duration_seconds_total " + std::to_string(static_cast<double>(m_duration_us) / 1e6));
  line("# HELP regd_http_received_bytes_total Request body bytes received.");
  line("# TYPE regd_http_received_bytes_total counter");
  line("regd_http_received_bytes_total " + std::to_string(m_bytes_in.load()));
  line("# HELP regd_http_sent_bytes_total Response body bytes sent.");
  line("# TYPE regd_http_sent_bytes_total counter");
  line("regd_http_sent_bytes_total " + std::to_string(m_bytes_out.load()));
  line("# HELP regd_http_requests_in_flight Requests being served.");
  line("# TYPE regd_http_requests_in_flight gauge");
  line("regd_http_requests_in_flight " + std::to_string(m_in_flight.load()));
  line("# HELP regd_connections_open Open client connections.");
  line("# TYPE regd_connections_open gauge");
  line("regd_connections_open " + std::to_string(m_connections_open.load()));
  line("# HELP regd_connections_total Client connections accepted.");
  line("# TYPE regd_connections_total counter");
  line("regd_connections_total " + std::to_string(m_connections_total.load()));
  auto up = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
  line("# HELP regd_uptime_seconds Seconds since start.");
  line("# TYPE regd_uptime_seconds gauge");
  line("regd_uptime_seconds " + std::to_string(up));
  return out;
}

}  // namespace regd::daemon
