// Structured logs on stderr: one line per event, JSON ({"time","level","msg",...fields}) or
// text ("TIME LEVEL msg key=value ..."). Each line is written with a single write(2), so lines
// from concurrent threads never interleave. Thread-safe.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace regd::daemon {

enum class LogFormat { json, text };
enum class LogLevel { info, warn, error };

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

void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

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
