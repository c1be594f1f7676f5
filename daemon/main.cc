// regd: the OCI Distribution API over a storage tree shared by any number of instances.
#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "config.h"
#include "log.h"
#include "regd/registry.h"
#include "regd/storage.h"
#include "server.h"

namespace {

using namespace regd;
using namespace regd::daemon;

int serve(const Config& config) {
  auto storage = make_posix_storage(config.root);
  if (!storage) {
    log(LogLevel::error, "cannot open storage", {{"root", config.root}, {"error", storage.error().message}});
    return 1;
  }
  std::shared_ptr<Storage> shared = std::move(*storage);
  RegistryOptions options;
  options.max_manifest_size = config.max_manifest_size;
  auto registry = make_registry(shared, options);
  ServerState state;
  Context ctx{*registry, *shared, config, state};
  Server server(ctx);
  auto address = parse_listen(config.listen);
  if (auto listening = server.listen(*address); !listening) {
    log(LogLevel::error, "cannot listen", {{"listen", config.listen}, {"error", listening.error().message}});
    return 1;
  }
  unsigned threads = config.threads != 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  log(LogLevel::info, "listening",
      {{"address", address->host},
       {"port", server.port()},
       {"root", config.root},
       {"threads", threads},
       {"read_only", config.read_only ? "true" : "false"}});
  return server.run(threads);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"regd: OCI distribution registry daemon", "regd"};
  Config config;
  add_config_options(app, config);
  app.set_version_flag("--version", "regd 0.1.0");
  CLI11_PARSE(app, argc, argv);
  if (auto valid = validate_config(config); !valid) {
    std::cerr << "regd: error: " << valid.error().message << "\n";
    return 2;
  }
  set_log_format(config.log_format == "text" ? LogFormat::text : LogFormat::json);
  // sendfile(2) and writes to a closed socket must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return serve(config);
  } catch (const std::exception& e) {
    log(LogLevel::error, "fatal", {{"error", e.what()}});
    return 1;
  }
}
