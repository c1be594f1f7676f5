// regd: the OCI Distribution API over a storage tree shared by any number of instances.
#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "config.h"
#include "gc_task.h"
#include "log.h"
#include "regd/duration.h"
#include "regd/registry.h"
#include "regd/storage.h"
#include "server.h"

namespace {

using namespace regd;
using namespace regd::daemon;

// The background GC of --gc-interval; none on read-only instances or with an interval of 0.
// Durations were checked by validate_config.
std::unique_ptr<GcTask> start_gc(const Config& config, const std::shared_ptr<Storage>& storage) {
  auto interval = *parse_duration(config.gc_interval);
  if (interval.count() == 0 || config.read_only) {
    return nullptr;
  }
  GcOptions options;
  options.grace = *parse_duration(config.gc_grace);
  options.upload_ttl = *parse_duration(config.upload_ttl);
  options.delete_untagged = config.gc_delete_untagged;
  log(LogLevel::info, "background gc", {{"interval", config.gc_interval}, {"grace", config.gc_grace}});
  return std::make_unique<GcTask>(storage, options, interval);
}

int serve(const Config& config) {
  auto storage = make_posix_storage(config.root);
  if (!storage) {
    log(LogLevel::error, "cannot open storage", {{"root", config.root}, {"error", storage.error().message}});
    return 1;
  }
  std::shared_ptr<Storage> shared = std::move(*storage);
  RegistryOptions options;
  options.max_manifest_size = config.max_manifest_size;
  options.refresh_after = *parse_duration(config.link_refresh);
  auto registry = make_registry(shared, options);
  auto gc = start_gc(config, shared);
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
