#include "regd/version.h"

// The one file that includes the generated header: a new revision recompiles only this.
#include "version_info.h"

namespace regd {

std::string_view version() {
  return REGD_VERSION;
}

std::string_view git_revision() {
  return REGD_GIT_REVISION;
}

std::string version_line(std::string_view program) {
  return std::string(program) + " " + std::string(version()) + " (rev " + std::string(git_revision()) + ")";
}

}  // namespace regd
