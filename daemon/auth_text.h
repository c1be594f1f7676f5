// Shared by the parsers of the auth files (htpasswd, rules, PEM keys): numbered lines and
// errors that name them. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "regd/error.h"

namespace regd::daemon {

// Takes the next line off the front of `text` (without its '\n'). REQUIRES: !text.empty().
std::string_view take_line(std::string_view& text);

// invalid_argument "line N: why".
Error line_error(size_t line, const std::string& why);

}  // namespace regd::daemon
