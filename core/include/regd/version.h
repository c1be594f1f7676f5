// The version of regd and regctl, as `--version` prints it.
#pragma once

#include <string>
#include <string_view>

namespace regd {

// The release version, "0.1.0".
std::string_view version();

// The git revision the build was configured from: the abbreviated commit, "-dirty" appended
// when the tree had uncommitted changes, or "unknown" outside a git checkout (a source tarball).
std::string_view git_revision();

// "<program> <version> (rev <revision>)", the line --version prints.
std::string version_line(std::string_view program);

}  // namespace regd
