#include "exit_codes.h"

#include <iostream>

namespace regd::cli {

int exit_code_for(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
    case Errc::name_invalid:
    case Errc::tag_invalid:
      return k_exit_usage;
    case Errc::manifest_unknown:
    case Errc::blob_unknown:
    case Errc::name_unknown:
    case Errc::upload_unknown:
    case Errc::not_found:
      return k_exit_not_found;
    case Errc::conflict:
      return k_exit_busy;
    default:
      return k_exit_error;
  }
}

int report_error(const Error& error) {
  std::cerr << "regctl: error: " << error.message << std::endl;
  return exit_code_for(error.code);
}

}  // namespace regd::cli
