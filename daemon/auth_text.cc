#include "auth_text.h"

namespace regd::daemon {

std::string_view take_line(std::string_view& text) {
  auto end = text.find('\n');
  auto line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

Error line_error(size_t line, const std::string& why) {
  return Error{Errc::invalid_argument, "line " + std::to_string(line) + ": " + why};
}

}  // namespace regd::daemon
