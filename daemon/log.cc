#include "log.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <mutex>

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

// The length of the valid UTF-8 sequence `s` starts with (2 to 4 bytes), or 0.
size_t utf8_length(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i])); };
  uint32_t c = byte(0);
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n == 0 || s.size() < n) {
    return 0;
  }
  uint32_t code = c & (0x7fu >> n);
  for (size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xc0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (byte(i) & 0x3f);
  }
  bool overlong = (n == 3 && code < 0x800) || (n == 4 && code < 0x10000);
  bool surrogate = code >= 0xd800 && code <= 0xdfff;
  return overlong || surrogate || code > 0x10ffff ? 0 : n;
}

// Appends `v` escaped for a JSON string: quotes, backslashes and control characters escaped,
// every byte that is not part of valid UTF-8 replaced by U+FFFD (clients choose paths and ids).
void append_escaped(std::string& out, std::string_view v) {
  static constexpr char k_hex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < v.size()) {
    size_t run = i;
    while (run < v.size() && v[run] >= ' ' && v[run] < 0x7f && v[run] != '"' && v[run] != '\\') {
      ++run;
    }
    out.append(v.data() + i, run - i);
    i = run;
    if (i == v.size()) {
      break;
    }
    auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      size_t n = utf8_length(v.substr(i));
      out.append(n == 0 ? std::string_view("\xef\xbf\xbd") : v.substr(i, n));
      i += n == 0 ? 1 : n;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\u00";
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    }
    ++i;
  }
}

template <class T>
void append_number(std::string& out, T v) {
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

// Written by hand rather than through a JSON library's document: an access line is built per
// request, and this is several times cheaper (bench/README.md, "Access log").
std::string json_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line;
  line.reserve(320);
  line += "{\"time\":\"";
  line += timestamp();
  line += "\",\"level\":\"";
  line += log_level_name(level);
  line += "\",\"msg\":\"";
  append_escaped(line, msg);
  line += '"';
  for (const auto& f : fields) {
    line += ",\"";
    append_escaped(line, f.key);
    line += "\":";
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            line += '"';
            append_escaped(line, v);
            line += '"';
          } else if constexpr (std::is_same_v<T, bool>) {
            line += v ? "true" : "false";
          } else if constexpr (std::is_same_v<T, double>) {
            if (std::isfinite(v)) {
              append_number(line, v);
            } else {
              line += "null";
            }
          } else {
            append_number(line, v);
          }
        },
        f.value);
  }
  line += "}\n";
  return line;
}

// A text value as is when it reads unambiguously, else quoted like a JSON string.
void append_text_value(std::string& line, std::string_view v) {
  bool plain = !v.empty() && std::none_of(v.begin(), v.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '=' || c == '\\' ||
           static_cast<unsigned char>(c) >= 0x7f;
  });
  if (plain) {
    line += v;
    return;
  }
  line += '"';
  append_escaped(line, v);
  line += '"';
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
          } else {
            append_number(line, v);
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
