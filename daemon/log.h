// Structured logs on stderr: one line per event, JSON ({"time","level","msg",...fields}) or
// text ("TIME LEVEL msg key=value ..."), lines below the current level dropped. Two paths:
// - log() writes its line at once, after every buffered line (one write(2) for both), so the
//   order of lines is kept and a warning or an error is never held back;
// - log_buffered() (the access log) appends to an in-process buffer, written when it holds
//   k_log_buffer_size bytes, when a LogFlusher's interval passes, before the next log() line and
//   by flush_log(): no system call per request. A process killed with SIGKILL loses what the
//   buffer held (at most one interval's worth).
// Lines never interleave: every write(2) carries whole lines. Everything here is thread-safe.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

namespace regd::daemon {

enum class LogFormat { json, text };
enum class LogLevel { debug, info, warn, error };

// Buffered lines are written once they hold this many bytes.
inline constexpr size_t k_log_buffer_size = 64 * 1024;

struct LogField {
  std::string_view key;
  // JSON writes each as its JSON type; text writes booleans as true/false and doubles in their
  // shortest exact form (0.884, not 0.884000).
  std::variant<std::string_view, int64_t, double, bool> value;

  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) LogField(std::string_view k, T v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
};

// Chooses the format of every later line (json by default).
void set_log_format(LogFormat format);

// Lines below `level` are dropped from now on (info by default). May change while serving.
void set_log_level(LogLevel level);
LogLevel log_level();
// A line at `level` would be written: lets a caller skip building one that would not.
bool log_enabled(LogLevel level);

// "debug", "info", "warn", "error"; parse_log_level() is its inverse (nullopt for other text).
std::string_view log_level_name(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view text);

// Writes the line now, after the buffered ones.
void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

// Appends the line to the buffer (see the top of this file).
void log_buffered(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

// Writes the buffered lines now (shutdown, tests).
void flush_log();

// Where lines go: standard error by default. For tests; REQUIRES: no line is being logged.
void set_log_fd(int fd);

// Writes the buffered lines every `interval` while any are waiting, from a thread of its own
// (idle when nothing is buffered); the destructor stops it and writes what is left. At most one
// at a time.
class LogFlusher {
 public:
  explicit LogFlusher(std::chrono::milliseconds interval = std::chrono::milliseconds(200));
  ~LogFlusher();
  LogFlusher(const LogFlusher&) = delete;
  LogFlusher& operator=(const LogFlusher&) = delete;

 private:
  std::thread m_thread;
};

// The id of the request this thread is handling (empty when none): lets code that builds a
// response deep inside a handler (error_table.cc) name the request in its log line and body.
std::string_view current_request_id();

// Sets current_request_id() for its lifetime. REQUIRES: no suspension (co_await) while alive,
// since a coroutine may resume on another thread.
class RequestIdScope {
 public:
  explicit RequestIdScope(std::string_view request_id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string_view m_previous;
};

}  // namespace regd::daemon
