#include "exit_codes.h"

#include <array>
#include <iostream>

namespace regd::cli {

namespace {

constexpr std::array k_exit_codes{
    ExitCode{k_exit_ok, "ok"},
    ExitCode{k_exit_error, "error"},
    ExitCode{k_exit_usage, "usage"},
    ExitCode{k_exit_problems, "verify found problems"},
    ExitCode{k_exit_not_found, "not found"},
    ExitCode{k_exit_busy, "busy (gc lease held)"},
    ExitCode{k_exit_incomplete, "incomplete repositories kept (gc, prune)"},
    ExitCode{k_exit_no_registry, "no registry tree at the root (see --init)"},
};

}  // namespace

std::string exit_codes_help() {
  std::string text = "Exit codes:";
  for (const ExitCode& exit : k_exit_codes) {
    text += (exit.code == 0 ? " " : ", ") + std::to_string(exit.code) + " " + exit.meaning;
  }
  return text + ".";
}

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
    case Errc::no_registry:
      return k_exit_no_registry;
    default:
      return k_exit_error;
  }
}

int report_error(const Error& error) {
  std::cerr << "regctl: error: " << error.message << std::endl;
  return exit_code_for(error.code);
}

}  // namespace regd::cli
