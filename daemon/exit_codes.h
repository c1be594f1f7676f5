// regd's exit statuses and its one error prefix, "regd: error: ". Part of the interface (regd(8),
// docs/regd.md): never renumber.
#pragma once

#include <string_view>

namespace regd::daemon {

inline constexpr int k_exit_ok = 0;      // stopped after a graceful drain (or --help, --version)
inline constexpr int k_exit_error = 1;   // cannot start: storage root unusable, address in use, fatal error
inline constexpr int k_exit_usage = 2;   // bad option, value, configuration key or file
inline constexpr int k_exit_forced = 3;  // a second SIGTERM/SIGINT cut the drain short

// Prints "regd: error: <message>" (and, for usage errors, where to find help) on stderr and
// returns `code`.
int report_error(std::string_view message, int code);

}  // namespace regd::daemon
