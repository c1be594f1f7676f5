#include "log.h"

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace regd::daemon {
namespace {

std::atomic<LogFormat> g_format{LogFormat::json};
std::atomic<LogLevel> g_level{LogLevel::info};
std::atomic<int> g_fd{STDERR_FILENO};
thread_local std::string_view t_request_id;

// The lines of log_buffered() and what writes them. One buffer for every thread: appending
// holds the mutex only for a copy of the line (measured in bench/README.md, "Access log").
struct Output {
  std::mutex mutex;              // guards lines and stop
  std::condition_variable wake;  // lines became non-empty, or stop was set
  std::string lines;
  bool stop = false;
  // Held from taking `lines` until they are written, so that writes keep the order of lines.
  std::mutex write_mutex;
  std::string writing;  // guarded by write_mutex
};

// Never destroyed: a thread may still log while the process exits.
Output& output() {
  static auto* out = new Output;
  return *out;
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
  j["level"] = log_level_name(level);
  j["msg"] = msg;
  for (const auto& f : fields) {
    std::visit([&](const auto& v) { j[std::string(f.key)] = v; }, f.value);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// A text value as is when it reads unambiguously, else quoted like a JSON string.
void append_text_value(std::string& line, std::string_view v) {
  bool plain = !v.empty() && std::none_of(v.begin(), v.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f;
  });
  if (plain) {
    line += v;
  } else {
    line += nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

std::string text_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line = timestamp() + " " + std::string(log_level_name(level)) + " " + std::string(msg);
  for (const auto& f : fields) {
    line += " " + std::string(f.key) + "=";
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            append_text_value(line, v);
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

std::string make_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  return g_format == LogFormat::json ? json_line(level, msg, fields) : text_line(level, msg, fields);
}

void write_all(std::string_view data) {
  int fd = g_fd;
  while (!data.empty()) {
    auto n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // nowhere to log to: the lines are dropped
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Writes the buffered lines, then `line`, in one write(2). REQUIRES: out.write_mutex held.
void write_locked(Output& out, std::string_view line) {
  {
    std::lock_guard lock(out.mutex);
    out.writing.swap(out.lines);
  }
  out.writing += line;
  write_all(out.writing);
  out.writing.clear();
  if (out.writing.capacity() > 4 * k_log_buffer_size) {
    out.writing.shrink_to_fit();  // a burst of long lines leaves no large buffer behind
  }
}

}  // namespace

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (auto level : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    if (text == log_level_name(level)) {
      return level;
    }
  }
  return std::nullopt;
}

void set_log_format(LogFormat format) {
  g_format = format;
}

void set_log_level(LogLevel level) {
  g_level = level;
}

LogLevel log_level() {
  return g_level;
}

bool log_enabled(LogLevel level) {
  return level >= g_level.load(std::memory_order_relaxed);
}

void set_log_fd(int fd) {
  g_fd = fd;
}

void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!log_enabled(level)) {
    return;
  }
  auto line = make_line(level, msg, fields);
  auto& out = output();
  std::lock_guard lock(out.write_mutex);
  write_locked(out, line);
}

void log_buffered(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!log_enabled(level)) {
    return;
  }
  auto line = make_line(level, msg, fields);
  auto& out = output();
  bool was_empty = false;
  bool full = false;
  {
    std::lock_guard lock(out.mutex);
    was_empty = out.lines.empty();
    out.lines += line;
    full = out.lines.size() >= k_log_buffer_size;
  }
  if (full) {
    flush_log();
  } else if (was_empty) {
    out.wake.notify_one();  // the flusher's interval starts now
  }
}

void flush_log() {
  auto& out = output();
  std::lock_guard lock(out.write_mutex);
  write_locked(out, "");
}

LogFlusher::LogFlusher(std::chrono::milliseconds interval) {
  auto& out = output();
  {
    std::lock_guard lock(out.mutex);
    out.stop = false;
  }
  m_thread = std::thread([interval, &out] {
    std::unique_lock lock(out.mutex);
    while (!out.stop) {
      out.wake.wait(lock, [&] { return out.stop || !out.lines.empty(); });
      out.wake.wait_for(lock, interval, [&] { return out.stop; });
      lock.unlock();
      flush_log();
      lock.lock();
    }
  });
}

LogFlusher::~LogFlusher() {
  auto& out = output();
  {
    std::lock_guard lock(out.mutex);
    out.stop = true;
  }
  out.wake.notify_one();
  m_thread.join();
  flush_log();
}

std::string_view current_request_id() {
  return t_request_id;
}

RequestIdScope::RequestIdScope(std::string_view request_id) : m_previous(t_request_id) {
  t_request_id = request_id;
}

RequestIdScope::~RequestIdScope() {
  t_request_id = m_previous;
}

}  // namespace regd::daemon
