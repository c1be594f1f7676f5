// What every subcommand shares: the global options, the action main runs after parsing, and
// how a command reaches the storage tree (always through core's Registry / Inspector).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "regd/error.h"
#include "regd/reference.h"
#include "regd/registry.h"
#include "regd/storage.h"

// Returns the error of a Status or Result whose value is not needed.
#define REGD_CLI_TRY(expr)                       \
  do {                                           \
    if (auto regd_try_ = (expr); !regd_try_) {   \
      return std::unexpected(regd_try_.error()); \
    }                                            \
  } while (false)

namespace regd::cli {

struct GlobalOptions {
  std::string root;  // --root, else $REGCTL_ROOT
  bool quiet = false;
};

// The subcommand chosen on the command line, bound to its options; returns the exit code of a
// successful run (0, or 3 when verify found problems). Errors are translated by main.
using Action = std::function<Result<int>()>;

struct Session {
  std::shared_ptr<Storage> storage;
  std::unique_ptr<Registry> registry;
};

// Opens the storage tree at the --root path. Without `create`, a missing root is an error
// (read-only commands must not create directories). Errors: invalid_argument (no root given),
// not_found, io_error.
[[nodiscard]] Result<Session> open_session(const GlobalOptions& global, bool create);

// Parses a REPO[:TAG|@DIGEST] argument; any grammar error becomes invalid_argument (a usage
// error) naming the argument.
[[nodiscard]] Result<Reference> parse_reference_arg(std::string_view text);

// True when progress may be drawn: stderr is a terminal and --quiet is off.
bool show_progress(const GlobalOptions& global);

}  // namespace regd::cli
