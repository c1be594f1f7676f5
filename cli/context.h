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
#include "regd/storage_root.h"

// Returns the error of a Status or Result whose value is not needed.
#define REGD_CLI_TRY(expr)                       \
  do {                                           \
    if (auto regd_try_ = (expr); !regd_try_) {   \
      return std::unexpected(regd_try_.error()); \
    }                                            \
  } while (false)

namespace CLI {
class App;
}

namespace regd::cli {

// Names fetched per call by the commands that walk a whole repository or tag list.
inline constexpr size_t k_list_page = 1000;

struct GlobalOptions {
  std::string root;  // --root, else $REGCTL_ROOT: a directory, or s3://BUCKET[/PREFIX]
  // An s3:// root's service and credentials: --s3-endpoint, --s3-region, --s3-credentials,
  // --s3-profile, else $REGCTL_S3_*, else the AWS_* variables (regd/storage_root.h).
  S3Options s3;
  bool quiet = false;
  bool init = false;           // --init: create the registry tree when the root holds none
  std::string immutable_tags;  // --immutable-tags, else $REGCTL_IMMUTABLE_TAGS (regd's syntax)
};

// Binds the global options (--root, --s3-*, --init, --immutable-tags, --quiet) to `global`, each
// with its REGCTL_* variable where it has one. The --s3-* ones fall back to the AWS_* variables
// when neither they nor their REGCTL_S3_* variable is given (regd/storage_root.h).
void add_global_options(CLI::App& app, GlobalOptions& global);

// The subcommand chosen on the command line, bound to its options; returns the exit code of a
// successful run (0, or 3 when verify found problems). Errors are translated by main.
using Action = std::function<Result<int>()>;

struct Session {
  std::shared_ptr<Storage> storage;
  std::unique_ptr<Registry> registry;
};

// What a command does to the storage tree.
enum class Access {
  read,    // only reads (ls, inspect, verify, gc --dry-run, ...)
  write,   // changes an existing registry (tag, rm, gc, prune, ...): the root must be writable
  create,  // may start a registry (push): a root without a tree gets one
};

// Opens the registry tree at the --root path or s3:// bucket. A root that holds no tree (an empty
// directory, an unmounted share, a wrong path, a missing or empty bucket) is refused unless the
// command creates one (Access::create) or --init was given: nothing is created then, not even the
// root or the bucket. A writing command first proves the root writable, so that it fails before
// doing anything rather than half-way. The registry enforces --immutable-tags as regd instances do.
// Errors: invalid_argument (no root given, bad tag pattern, a malformed s3:// root, no S3
// endpoint or credentials), no_registry (naming the root and --init), denied, no_space, io_error.
[[nodiscard]] Result<Session> open_session(const GlobalOptions& global, Access access);

// Parses a REPO[:TAG|@DIGEST] argument; any grammar error becomes invalid_argument (a usage
// error) naming the argument.
[[nodiscard]] Result<Reference> parse_reference_arg(std::string_view text);

// True when progress may be drawn: stderr is a terminal and --quiet is off.
bool show_progress(const GlobalOptions& global);

}  // namespace regd::cli
