// Durations on command lines and in config files: "90" or "90s", "15m", "1h30m", "7d", "0".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "regd/error.h"

namespace regd {

// Parses one or more <number><unit> parts (units s, m, h, d; a bare number is seconds).
// Errors: invalid_argument (empty, unknown unit, longer than 36500d: 100 years).
[[nodiscard]] Result<std::chrono::seconds> parse_duration(std::string_view text);

// The shortest form parse_duration reads back, e.g. "1h30m", "7d", "0s".
std::string format_duration(std::chrono::seconds duration);

}  // namespace regd
