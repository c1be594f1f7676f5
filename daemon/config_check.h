// --check-config: everything regd checks before it serves, short of binding the listener, with
// the same loaders start-up uses (docs/regd.md, "Checking a configuration").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "regd/error.h"
#include "regd/storage.h"

namespace regd::daemon {

// The storage root, usable as configured: writable, or readable for a --read-only instance
// (probe_storage). A directory is created when missing, as start-up does; an s3:// root's bucket
// never is (open_storage_root with the --s3-* options). Errors: io_error (cannot create it, not a
// directory), no_registry (no such bucket), invalid_argument and denied (open_storage_root), and
// probe_storage's.
[[nodiscard]] Result<std::shared_ptr<Storage>> open_storage(const Config& config);

// The problems start-up would stop at, one message each (empty: none): every auth file
// (htpasswd, rules, token keys) and the TLS files load, the listen address parses, and the root
// is usable as open_storage checks it - except that a missing directory root is not created: its
// nearest existing parent must be a writable directory (an s3:// root is opened, which creates
// nothing). REQUIRES: validate_config(config) passed.
std::vector<std::string> check_config(const Config& config);

}  // namespace regd::daemon
