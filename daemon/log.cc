#include "log.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace regd::daemon {
namespace {

std::atomic<LogFormat> g_format{LogFormat::json};
thread_local std::string_view t_request_id;

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

// RFC 3339 UTC with milliseconds.
std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

std::string json_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  nlohmann::ordered_json j;
  j["time"] = timestamp();
  j["level"] = level_name(level);
  j["msg"] = msg;
  for (const auto& f : fields) {
    std::visit([&](const auto& v) { j[std::string(f.key)] = v; }, f.value);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string text_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line = timestamp() + " " + std::string(level_name(level)) + " " + std::string(msg);
  for (const auto& f : fields) {
    line += " " + std::string(f.key) + "=";
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            line += v;
          } else if constexpr (std::is_same_v<T, bool>) {
            line += v ? "true" : "false";
          } else if constexpr (std::is_same_v<T, double>) {
            char buf[64];
            auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
            line.append(buf, end);
          } else {
            line += std::to_string(v);
          }
        },
        f.value);
  }
  return line + "\n";
}

}  // namespace

std::string_view current_request_id() {
  return t_request_id;
}

RequestIdScope::RequestIdScope(std::string_view request_id) : m_previous(t_request_id) {
  t_request_id = request_id;
}

RequestIdScope::~RequestIdScope() {
  t_request_id = m_previous;
}

void set_log_format(LogFormat format) {
  g_format = format;
}

void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line = g_format == LogFormat::json ? json_line(level, msg, fields) : text_line(level, msg, fields);
  // One write per line: stderr is unbuffered and O_APPEND-like for pipes, so lines stay whole.
  size_t off = 0;
  while (off < line.size()) {
    auto n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) {
      return;
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace regd::daemon
