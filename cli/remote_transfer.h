// push, pull and cp with a docker:// end: the storage tree to or from another registry, or one
// registry to another (skopeo's docker:// spelling). Shared by cmd_push, cmd_pull and cmd_cp.
#pragma once

#include <string>
#include <vector>

#include "context.h"
#include "remote_options.h"

namespace regd::cli {

struct TransferOptions {
  std::string source;  // docker://HOST/REPO[:TAG|@DIGEST] or REPO[:TAG|@DIGEST]
  std::string target;  // docker://HOST/REPO[:TAG] or REPO[:TAG]
  bool referrers = false;
  bool json = false;
  std::vector<std::string> mount_from;  // --mount-from: repositories of the target registry
  RemoteOptions remote;
};

// Copies the source image and everything below it to the target, sending only what the target
// lacks, and tags it (the target's tag, else the source's, else latest; a digest source without
// a target tag stays untagged). Prints the result like push/pull (or JSON). At least one end must
// be docker://. Errors: invalid_argument (bad references, a target with a digest), and the
// errors of both ends.
[[nodiscard]] Result<int> run_transfer(const TransferOptions& options, const GlobalOptions& global);

// Adds --mount-from, the remote options and, with `referrers_flag`, --referrers to `cmd` (the
// command binds SRC, DST and --json itself).
void add_transfer_options(CLI::App* cmd, TransferOptions& options, bool referrers_flag);

}  // namespace regd::cli
