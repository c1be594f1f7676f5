// The one place where errors become exit codes and `regctl: error: <message>` lines, and the one
// table of exit codes (the --help footer is printed from it). The codes are part of regctl's
// interface (regctl(1), docs/regctl.md): never renumber them.
#pragma once

#include <string>

#include "regd/error.h"

namespace regd::cli {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_error = 1;        // any other failure (I/O, corrupt data, conflicts)
inline constexpr int k_exit_usage = 2;        // bad command line or malformed argument
inline constexpr int k_exit_problems = 3;     // verify found problems
inline constexpr int k_exit_not_found = 4;    // repository, tag, manifest, blob or file not found
inline constexpr int k_exit_busy = 5;         // another process holds what is needed (the GC lease)
inline constexpr int k_exit_incomplete = 6;   // gc ran, but some repositories could not be fully marked
inline constexpr int k_exit_no_registry = 7;  // the storage root holds no registry tree (not mounted?)

struct ExitCode {
  int code;
  const char* meaning;  // a few words, for --help
};

// "Exit codes: 0 ok, 1 error, ..." for the --help footer.
std::string exit_codes_help();

// The exit code for an error code.
int exit_code_for(Errc code);

// Prints `regctl: error: <message>` on stderr and returns exit_code_for(error.code).
int report_error(const Error& error);

}  // namespace regd::cli
