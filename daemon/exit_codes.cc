#include "exit_codes.h"

#include <iostream>

namespace regd::daemon {

int report_error(std::string_view message, int code) {
  std::cerr << "regd: error: " << message << "\n";
  if (code == k_exit_usage) {
    std::cerr << "Run 'regd --help' for more information.\n";
  }
  return code;
}

}  // namespace regd::daemon
