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
  std::variant<std::string_view, int64_t, double> value;

  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  template <std::integral T>
  LogField(std::string_view k, T v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
};

// Chooses the format of every later line (json by default).
void set_log_format(LogFormat format);

void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

}  // namespace regd::daemon
