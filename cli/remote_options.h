// The options of every command that reaches another registry through a docker:// location:
// credentials (--creds, --authfile and the auth files podman/skopeo/docker write), TLS
// (--tls-verify, --ca) and the upload mode (--chunk-size).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "regd/error.h"
#include "regd/remote.h"

namespace regd::cli {

struct RemoteOptions {
  std::string authfile;  // --authfile, else $REGISTRY_AUTH_FILE and the default files
  std::string creds;     // --creds USER[:PASSWORD]
  bool tls_verify = true;
  std::string ca_file;      // --ca
  uint64_t chunk_size = 0;  // --chunk-size (e.g. 8MiB); 0: monolithic uploads
  int retries = 4;          // --retries
};

// Binds the options above to `cmd`.
void add_remote_options(CLI::App* cmd, RemoteOptions& options);

// The client options these stand for, for any host. Errors: invalid_argument (bad --creds).
[[nodiscard]] Result<remote::ClientOptions> client_options(const RemoteOptions& options);

// A client of `host` with these options. Errors: invalid_argument (bad --creds, --chunk-size,
// an auth file that does not parse, an unreadable CA file).
[[nodiscard]] Result<std::unique_ptr<remote::Client>> open_remote(const std::string& host,
                                                                  const RemoteOptions& options);

// Parses a docker:// argument; any error becomes invalid_argument naming the argument.
[[nodiscard]] Result<remote::RemoteRef> parse_remote_arg(std::string_view text);

}  // namespace regd::cli
