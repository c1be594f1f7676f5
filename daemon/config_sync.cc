// The periodic sync options (docs/mirror.md, "Periodic sync inside regd"), kept apart from
// config.cc.
#include <CLI/CLI.hpp>

#include "config.h"
#include "regd/duration.h"
#include "regd/sync.h"

namespace regd::daemon {

namespace {

// A sync file without --sync-interval: hourly, often enough for a mirror, rare enough that a
// fleet's registries upstream barely notice (each run only compares tags and manifests).
constexpr std::chrono::seconds k_default_sync_interval{3600};

}  // namespace

void add_sync_options(CLI::App& app, Config& c) {
  app.add_option("--sync-file", c.sync_file,
                 "Mirror by the rules of this regctl sync file (JSON) every --sync-interval, under the GC lease; "
                 "credentials and TLS from the --upstream-* options")
      ->envname("REGD_SYNC_FILE");
  app.add_option("--sync-interval", c.sync_interval,
                 "Run --sync-file this often (e.g. 15m; 0: every hour when --sync-file is given)")
      ->envname("REGD_SYNC_INTERVAL")
      ->capture_default_str();
}

Status validate_sync_config(const Config& c) {
  auto interval = parse_duration(c.sync_interval);
  if (!interval) {
    return fail(Errc::invalid_argument, "--sync-interval: " + interval.error().message);
  }
  if (c.sync_file.empty()) {
    if (interval->count() != 0) {
      return fail(Errc::invalid_argument, "--sync-interval needs --sync-file");
    }
    return {};
  }
  return {};
}

Status check_sync_file(const Config& c) {
  if (c.sync_file.empty()) {
    return {};
  }
  if (auto rules = sync::load_sync_file(c.sync_file); !rules) {
    return fail(Errc::invalid_argument, "--sync-file " + rules.error().message);
  }
  return {};
}

std::chrono::seconds sync_interval(const Config& c) {
  if (c.sync_file.empty()) {
    return std::chrono::seconds(0);
  }
  auto interval = *parse_duration(c.sync_interval);
  return interval.count() == 0 ? k_default_sync_interval : interval;
}

}  // namespace regd::daemon
