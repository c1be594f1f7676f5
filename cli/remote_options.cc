#include "remote_options.h"

namespace regd::cli {

void add_remote_options(CLI::App* cmd, RemoteOptions& options) {
  cmd->add_option("--authfile", options.authfile,
                  "Credentials file (podman/skopeo auth.json or docker config.json); default: $REGISTRY_AUTH_FILE, "
                  "$XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json");
  cmd->add_option("--creds", options.creds, "USER:PASSWORD for the docker:// registry (wins over every auth file)");
  cmd->add_option("--tls-verify", options.tls_verify,
                  "Verify the docker:// registry's certificate (default true); false also allows plain HTTP")
      ->default_str("true");
  cmd->add_option("--ca", options.ca_file,
                  "PEM file of CAs trusted for the docker:// registry (default: the system's)");
  cmd->add_option("--chunk-size", options.chunk_size,
                  "Upload blobs to the docker:// registry in PATCH chunks of this size (e.g. 8MiB); default: one PUT")
      ->transform(CLI::AsSizeValue(true));
  cmd->add_option("--retries", options.retries, "Retries of a request answered 429 or 5xx, or whose connection failed")
      ->check(CLI::Range(0, 20))
      ->default_str("4");
}

Result<remote::ClientOptions> client_options(const RemoteOptions& options) {
  remote::ClientOptions client;
  client.tls_verify = options.tls_verify;
  client.ca_file = options.ca_file;
  client.auth_file = options.authfile;
  client.chunk_size = options.chunk_size;
  client.max_retries = options.retries;
  if (!options.creds.empty()) {
    size_t colon = options.creds.find(':');
    if (colon == 0) {
      return fail(Errc::invalid_argument, "--creds must be USER[:PASSWORD]");
    }
    client.credentials = remote::Credentials{options.creds.substr(0, colon),
                                             colon == std::string::npos ? "" : options.creds.substr(colon + 1)};
  }
  return client;
}

Result<std::unique_ptr<remote::Client>> open_remote(const std::string& host, const RemoteOptions& options) {
  auto client = client_options(options);
  if (!client) {
    return std::unexpected(client.error());
  }
  return remote::make_client(host, *client);
}

Result<remote::RemoteRef> parse_remote_arg(std::string_view text) {
  auto ref = remote::RemoteRef::parse(text);
  if (!ref) {
    return fail(Errc::invalid_argument, ref.error().message);
  }
  return ref;
}

}  // namespace regd::cli
