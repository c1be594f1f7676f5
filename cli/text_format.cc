#include "text_format.h"

#include <chrono>
#include <ctime>

namespace regd::cli {

std::string counted(uint64_t n, std::string_view singular, std::string_view plural) {
  std::string text = std::to_string(n) + " ";
  if (n == 1) {
    return text.append(singular);
  }
  if (plural.empty()) {
    return text.append(singular).append("s");
  }
  return text.append(plural);
}

std::string utc_time(Clock::time_point time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

int64_t age_seconds(Clock::time_point then, Clock::time_point now) {
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - then).count();
  return age > 0 ? age : 0;
}

}  // namespace regd::cli
