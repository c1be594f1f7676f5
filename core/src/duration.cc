#include "regd/duration.h"

#include <array>
#include <charconv>
#include <utility>

namespace regd {

namespace {

// 100 years: far beyond any TTL or interval, and far inside what the clocks can add to a time
// point (64-bit nanoseconds hold 292 years), so `now - grace` never overflows.
constexpr int64_t k_max_seconds = 36500LL * 86400;
constexpr std::array<std::pair<char, int64_t>, 4> k_units = {{{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};

Result<int64_t> unit_seconds(char unit) {
  for (const auto& [name, seconds] : k_units) {
    if (name == unit) {
      return seconds;
    }
  }
  return fail(Errc::invalid_argument, std::string("unknown duration unit '") + unit + "' (use s, m, h or d)");
}

}  // namespace

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) {
    return fail(Errc::invalid_argument, "empty duration");
  }
  int64_t total = 0;
  for (size_t pos = 0; pos < text.size();) {
    int64_t number = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data() + pos || text[pos] == '-') {
      return fail(Errc::invalid_argument,
                  "duration '" + std::string(text) + "': expected a number at '" + std::string(text.substr(pos)) + "'");
    }
    pos = static_cast<size_t>(end - text.data());
    int64_t scale = 1;
    if (pos < text.size()) {
      auto unit = unit_seconds(text[pos++]);
      if (!unit) {
        return std::unexpected(unit.error());
      }
      scale = *unit;
    } else if (total != 0) {
      return fail(Errc::invalid_argument, "duration '" + std::string(text) + "': a unit must follow every number");
    }
    if (number > (k_max_seconds - total) / scale) {
      return fail(Errc::invalid_argument, "duration '" + std::string(text) + "' is too long (at most 36500d)");
    }
    total += number * scale;
  }
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds duration) {
  int64_t left = duration.count();
  if (left == 0) {
    return "0s";
  }
  std::string out;
  for (const auto& [name, seconds] : k_units) {
    if (left >= seconds) {
      out += std::to_string(left / seconds) + name;
      left %= seconds;
    }
  }
  return out;
}

}  // namespace regd
