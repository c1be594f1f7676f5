// regd: the OCI Distribution API over a storage tree shared by any number of instances.
#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "auth.h"
#include "config.h"
#include "config_check.h"
#include "config_load.h"
#include "config_log.h"
#include "exit_codes.h"
#include "gc_task.h"
#include "log.h"
#include "regd/duration.h"
#include "regd/registry.h"
#include "regd/storage.h"
#include "regd/version.h"
#include "reload.h"
#include "request_limits.h"
#include "server.h"
#include "sync_task.h"
#include "tls.h"
#include "upstream.h"

extern char** environ;  // NOLINT: POSIX declares it nowhere

namespace {

using namespace regd;
using namespace regd::daemon;

// The background GC of --gc-interval; none on read-only instances or with an interval of 0.
// Durations were checked by validate_config.
std::unique_ptr<BackgroundTask> start_gc(const Config& config, const std::shared_ptr<Storage>& storage,
                                         Metrics& metrics) {
  auto interval = *parse_duration(config.gc_interval);
  if (interval.count() == 0 || config.read_only) {
    return nullptr;
  }
  GcOptions options;
  options.grace = *parse_duration(config.gc_grace);
  options.upload_ttl = *parse_duration(config.upload_ttl);
  options.delete_untagged = config.gc_delete_untagged;
  log(LogLevel::info, "background gc", {{"interval", config.gc_interval}, {"grace", config.gc_grace}});
  return start_gc_task(storage, options, interval, &metrics);
}

// A duration option where 0 switches the rule off. REQUIRES: validated.
std::optional<std::chrono::seconds> rule_duration(const std::string& text) {
  auto parsed = *parse_duration(text);
  return parsed.count() == 0 ? std::nullopt : std::optional(parsed);
}

std::unique_ptr<BackgroundTask> start_prune(const Config& config, const std::shared_ptr<Storage>& storage) {
  auto interval = *parse_duration(config.prune_interval);
  if (interval.count() == 0 || config.read_only) {
    return nullptr;
  }
  PruneOptions options;
  options.policy.match = split_patterns(config.prune_match);
  options.policy.keep_newest = config.prune_keep == 0 ? std::nullopt : std::optional(config.prune_keep);
  options.policy.keep_within = rule_duration(config.prune_keep_within);
  options.policy.untagged_older_than = rule_duration(config.prune_untagged_older_than);
  options.immutable_tags = split_patterns(config.immutable_tags);
  log(LogLevel::info, "background prune",
      {{"interval", config.prune_interval},
       {"match", config.prune_match},
       {"keep", config.prune_keep},
       {"keep_within", config.prune_keep_within},
       {"untagged_older_than", config.prune_untagged_older_than}});
  return start_prune_task(storage, options, interval);
}

// The background sync of --sync-file: none on read-only instances (the lease is a write) or
// without a file. The file was checked by validate_config; it is read again here. SIGHUP reads it
// again (a file that no longer loads keeps the running rules); a changed --sync-file or
// --sync-interval needs a restart.
std::unique_ptr<BackgroundTask> start_sync(const Config& config, const std::shared_ptr<Storage>& storage,
                                           Registry& registry, ServerState& state) {
  auto interval = sync_interval(config);
  if (interval.count() == 0) {
    return nullptr;
  }
  if (config.read_only) {
    log(LogLevel::warn, "background sync off: read-only instance", {{"sync_file", config.sync_file}});
    return nullptr;
  }
  auto loaded = sync::load_sync_file(config.sync_file);
  if (!loaded) {
    throw std::runtime_error("--sync-file " + loaded.error().message);
  }
  auto rules = std::make_shared<SyncRules>(std::move(*loaded));
  state.reloaders.add("sync-file", [rules, path = config.sync_file](const Config&) -> Result<Reloaded> {
    auto reloaded = sync::load_sync_file(path);
    if (!reloaded) {
      return std::unexpected(reloaded.error());
    }
    rules->set(std::move(*reloaded));
    return Reloaded::changed;
  });
  remote::ClientOptions client;
  client.tls_verify = config.upstream.tls_verify;
  client.ca_file = config.upstream.ca;
  client.auth_file = config.upstream.authfile;
  client.timeout = *parse_duration(config.upstream.timeout);
  log(LogLevel::info, "background sync",
      {{"sync_file", config.sync_file}, {"interval", format_duration(interval)}, {"mirrors", rules->get().size()}});
  return start_sync_task(storage, registry, rules, std::move(client), interval, &state.metrics);
}

int serve(const Config& config, ConfigSnapshot running, Reloaders::Load load) {
  auto shared = open_storage(config);
  if (!shared) {
    log(LogLevel::error, "cannot use the storage root", {{"root", config.root}, {"error", shared.error().message}});
    return k_exit_error;
  }
  RegistryOptions options;
  options.max_manifest_size = config.max_manifest_size;
  options.manifest_cache_size = config.manifest_cache_size;
  options.refresh_after = *parse_duration(config.link_refresh);
  options.immutable_tags = split_patterns(config.immutable_tags);
  auto registry = make_registry(*shared, options);
  ServerState state;  // before the background jobs, which count into its metrics
  auto gc = start_gc(config, *shared, state.metrics);
  auto pruning = start_prune(config, *shared);
  state.reloaders.set_config(std::move(running), std::move(load));
  state.reloaders.add("log-level", reload_log_level, {"log-level"});
  auto syncing = start_sync(config, *shared, *registry, state);
  if (config.auth.enabled()) {
    auto auth = Auth::create(config.auth, &state.metrics);
    if (!auth) {
      return report_error("cannot load the auth files: " + auth.error().message, k_exit_error);
    }
    state.auth = *auth;
    state.reloaders.add_parts([auth = *auth](const Config&, ReloadSummary& summary) {
      for (const FileReload& file : auth->reload()) {
        record(summary, file.key,
               file.status ? Result<Reloaded>(Reloaded::changed) : std::unexpected(file.status.error()));
      }
    });
  }
  if (config.tls.enabled()) {
    auto tls = TlsContexts::create(config.tls);
    if (!tls) {
      return report_error("cannot load the TLS files: " + tls.error().message, k_exit_error);
    }
    state.tls = *tls;
    state.reloaders.add("tls", [tls = *tls](const Config&) -> Result<Reloaded> {
      if (auto reloaded = tls->reload(); !reloaded) {
        return std::unexpected(reloaded.error());
      }
      return Reloaded::changed;
    });
  }
  state.limits = std::make_shared<Limits>(config.limits);
  state.reloaders.add(
      "limits",
      [limits = state.limits](const Config& next) {
        return limits->reconfigure(next.limits) ? Reloaded::changed : Reloaded::unchanged;
      },
      limits_option_keys());
  if (config.upstream.enabled()) {
    auto upstreams = Upstreams::create(config.upstream);
    if (!upstreams) {
      return report_error("cannot set up the upstreams: " + upstreams.error().message, k_exit_error);
    }
    state.upstreams = *upstreams;
    log(LogLevel::info, "pull-through cache",
        {{"upstreams", config.upstream.upstreams.size()}, {"ttl", config.upstream.ttl}});
  }
  Context ctx{*registry, **shared, config, state};
  Server server(ctx);
  auto address = parse_listen(config.listen);
  if (auto listening = server.listen(*address); !listening) {
    log(LogLevel::error, "cannot listen", {{"listen", config.listen}, {"error", listening.error().message}});
    return k_exit_error;
  }
  unsigned threads = config.threads != 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  log(LogLevel::info, "listening",
      {{"address", address->host},
       {"port", server.port()},
       {"root", config.root},
       {"threads", threads},
       {"storage_threads", storage_threads(config)},
       {"read_only", config.read_only},
       {"auth", config.auth.enabled()},
       {"tls", config.tls.enabled()},
       {"client_certificates", !config.tls.client_ca.empty()}});
  int code = server.run(threads);
  // Upstream fetches still running finish (bounded by their timeouts) while the event loops'
  // executors, which they post their completions to, still exist.
  state.upstreams.reset();
  return code;
}

// Flags, then REGD_* variables (both parsed by CLI11), then the --config file for what is left.
// Returns an exit code when regd must stop here (help, version, any usage error, an action).
std::optional<int> parse_options(CLI::App& app, Config& config, int argc, char** argv) {
  ConfigActions actions;
  add_config_actions(app, actions);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);  // --help, --version
    }
    return report_error(e.what(), k_exit_usage);
  }
  auto sources = finish_config(app, config, argc, argv);
  if (!sources) {
    return report_error(sources.error().message, k_exit_usage);
  }
  if (actions.print_config) {
    std::cout << format_config(app, *sources);
    return k_exit_ok;
  }
  if (actions.example_config) {
    std::cout << format_example(app, *sources);
    return k_exit_ok;
  }
  if (actions.check_config) {
    auto problems = check_config(config);
    for (const std::string& problem : problems) {
      report_error(problem, k_exit_error);
    }
    if (problems.empty()) {
      std::cout << "config OK\n";
    }
    return problems.empty() ? k_exit_ok : k_exit_usage;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"regd: OCI distribution registry daemon", "regd"};
  app.footer(
      "Exit codes: 0 stopped after a drain, 1 cannot start, 2 usage (or --check-config found a problem), 3 stopped "
      "by a second signal.\n"
      "See regd(8).");
  Config config;
  add_config_options(app, config);
  app.set_version_flag("--version", version_line("regd"));
  if (auto stop = parse_options(app, config, argc, argv)) {
    return *stop;
  }
  apply_log_config(config);
  for (const std::string& name : unknown_environment(app, environ)) {
    log(LogLevel::warn, "environment variable matches no option, ignored", {{"name", name}});
  }
  // sendfile(2) and writes to a closed socket must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // SIGHUP reads the configuration again as above: the same argv, the environment, the file.
  ConfigSnapshot running{config, config_values(app)};
  auto load = [argc, argv] { return load_config(argc, argv); };
  // Access lines are buffered: the flusher writes them every 200 ms and, when it goes out of
  // scope on any return from serve(), writes what is left.
  LogFlusher flusher;
  try {
    return serve(config, std::move(running), load);
  } catch (const std::exception& e) {
    log(LogLevel::error, "fatal", {{"error", e.what()}});
    return k_exit_error;
  }
}
