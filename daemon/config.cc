#include "config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "config_log.h"
#include "http_util.h"
#include "regd/duration.h"
#include "regd/registry.h"

namespace regd::daemon {

namespace {

void add_gc_options(CLI::App& app, Config& c) {
  app.add_option("--gc-interval", c.gc_interval, "Run garbage collection this often (e.g. 6h; 0: never)")
      ->envname("REGD_GC_INTERVAL")
      ->capture_default_str();
  app.add_option("--gc-grace", c.gc_grace, "GC keeps everything younger than this")
      ->envname("REGD_GC_GRACE")
      ->capture_default_str();
  app.add_flag("--gc-delete-untagged", c.gc_delete_untagged, "GC also removes manifests no tag reaches")
      ->envname("REGD_GC_DELETE_UNTAGGED");
  app.add_option("--upload-ttl", c.upload_ttl, "GC removes upload sessions older than this")
      ->envname("REGD_UPLOAD_TTL")
      ->capture_default_str();
  app.add_option("--link-refresh", c.link_refresh, "Re-touch a blob link a write relies on when older than this")
      ->envname("REGD_LINK_REFRESH")
      ->capture_default_str();
  app.add_option("--prune-interval", c.prune_interval, "Apply the retention policy this often (e.g. 1d; 0: never)")
      ->envname("REGD_PRUNE_INTERVAL")
      ->capture_default_str();
  app.add_option("--prune-match", c.prune_match,
                 "Prune's tag rules apply to tags matching these comma-separated patterns (default: every tag)")
      ->envname("REGD_PRUNE_MATCH");
  app.add_option("--prune-keep", c.prune_keep, "Prune keeps the N most recently pushed matching tags (0: no such rule)")
      ->envname("REGD_PRUNE_KEEP")
      ->capture_default_str();
  app.add_option("--prune-keep-within", c.prune_keep_within,
                 "Prune keeps matching tags pushed within this (0: no such rule)")
      ->envname("REGD_PRUNE_KEEP_WITHIN")
      ->capture_default_str();
  app.add_option("--prune-untagged-older-than", c.prune_untagged_older_than,
                 "Prune removes manifests no tag reaches older than this (0: never; must exceed --link-refresh)")
      ->envname("REGD_PRUNE_UNTAGGED_OLDER_THAN")
      ->capture_default_str();
  app.add_option("--immutable-tags", c.immutable_tags,
                 "Tags matching these comma-separated patterns (v*,release-*) never move and are never deleted")
      ->envname("REGD_IMMUTABLE_TAGS");
}

Status validate_patterns(const std::string& text) {
  if (auto patterns = parse_tag_patterns(text); !patterns) {
    return fail(Errc::invalid_argument, "--immutable-tags: " + patterns.error().message);
  }
  return {};
}

// The option a configuration key names: the long flag name, with '_' accepted for '-'.
CLI::Option* option_for_key(CLI::App& app, std::string key) {
  static const std::set<std::string> k_not_configurable = {"config", "help", "version"};
  std::replace(key.begin(), key.end(), '_', '-');
  if (k_not_configurable.contains(key)) {
    return nullptr;
  }
  CLI::Option* option = app.get_option_no_throw("--" + key);
  return option != nullptr && option->get_configurable() ? option : nullptr;  // not the actions (--print-config)
}

Status apply_item(CLI::App& app, const CLI::ConfigItem& item, const std::string& path) {
  auto where = path + ": ";
  if (!item.parents.empty()) {
    return fail(Errc::invalid_argument, where + "unknown key '" + item.fullname() + "' (section [" +
                                            item.parents.front() + "]): keys go at the top level, without sections");
  }
  CLI::Option* option = option_for_key(app, item.name);
  if (option == nullptr) {
    return fail(Errc::invalid_argument, where + "unknown key '" + item.name + "'");
  }
  if (option->count() > 0) {
    return {};  // the command line or the environment set it: they win
  }
  if (item.inputs.empty() && option->get_expected_max() > 1) {
    return {};  // an empty array (upstream = []): no values, the default
  }
  try {
    if (option->get_expected_min() == 0) {
      if (item.inputs.size() != 1) {
        return fail(Errc::invalid_argument, where + "key '" + item.name + "' takes one value");
      }
      option->add_result(option->get_flag_value(item.name, item.inputs.front()));
    } else {
      option->add_result(item.inputs);
    }
    option->run_callback();
  } catch (const CLI::Error& e) {
    return fail(Errc::invalid_argument, where + "key '" + item.name + "': " + e.what());
  }
  return {};
}

Status validate_prune(const Config& c) {
  if (auto patterns = parse_tag_patterns(c.prune_match); !patterns) {
    return fail(Errc::invalid_argument, "--prune-match: " + patterns.error().message);
  }
  if (*parse_duration(c.prune_interval) == std::chrono::seconds(0)) {
    return {};
  }
  auto untagged = *parse_duration(c.prune_untagged_older_than);
  if (c.prune_keep == 0 && parse_duration(c.prune_keep_within)->count() == 0 && untagged.count() == 0) {
    return fail(Errc::invalid_argument,
                "--prune-interval needs a rule: --prune-keep, --prune-keep-within or --prune-untagged-older-than");
  }
  if (untagged.count() != 0 && untagged <= *parse_duration(c.link_refresh)) {
    return fail(Errc::invalid_argument, "--prune-untagged-older-than must be longer than --link-refresh (docs/gc.md)");
  }
  return {};
}

Status validate_gc(const Config& c) {
  for (const std::string* text : {&c.gc_interval, &c.gc_grace, &c.upload_ttl, &c.link_refresh, &c.prune_interval,
                                  &c.prune_keep_within, &c.prune_untagged_older_than}) {
    if (auto parsed = parse_duration(*text); !parsed) {
      return std::unexpected(parsed.error());
    }
  }
  if (*parse_duration(c.gc_interval) != std::chrono::seconds(0) &&
      *parse_duration(c.gc_grace) <= *parse_duration(c.link_refresh)) {
    return fail(Errc::invalid_argument, "--gc-grace must be longer than --link-refresh (docs/gc.md)");
  }
  return validate_prune(c);
}

}  // namespace

unsigned storage_threads(const Config& config) {
  return config.storage_threads != 0 ? config.storage_threads : std::max(4u, 2 * std::thread::hardware_concurrency());
}

void add_config_options(CLI::App& app, Config& c) {
  app.add_option("--config", c.config_file, "Read options from this TOML file (keys are the long flag names)")
      ->envname("REGD_CONFIG");
  app.add_option("--root", c.root, "Storage root (registry:2 layout)")->envname("REGD_ROOT")->capture_default_str();
  app.add_option("--listen", c.listen, "Address to listen on, HOST:PORT")
      ->envname("REGD_LISTEN")
      ->capture_default_str();
  app.add_option("--threads", c.threads, "I/O threads (0: one per core)")->envname("REGD_THREADS");
  app.add_option("--storage-threads", c.storage_threads,
                 "Workers for blocking storage calls: upload writes and fsyncs, manifest PUTs, deletes, listings "
                 "(0: max(4, 2 x cores))")
      ->envname("REGD_STORAGE_THREADS");
  app.add_flag("--read-only", c.read_only, "Refuse every write with 405 UNSUPPORTED")->envname("REGD_READ_ONLY");
  add_log_options(app, c);
  app.add_option("--max-manifest-size", c.max_manifest_size, "Largest manifest accepted, bytes")
      ->envname("REGD_MAX_MANIFEST_SIZE")
      ->capture_default_str();
  app.add_option("--manifest-cache-size", c.manifest_cache_size,
                 "Bytes of manifests kept in memory by digest (immutable); tags and links are always read (0: none)")
      ->envname("REGD_MANIFEST_CACHE_SIZE")
      ->capture_default_str();
  app.add_option("--max-upload-size", c.max_upload_size, "Largest body of one upload request, bytes (0: none)")
      ->envname("REGD_MAX_UPLOAD_SIZE");
  app.add_option("--max-header-size", c.max_header_size, "Largest request header, bytes")
      ->envname("REGD_MAX_HEADER_SIZE")
      ->capture_default_str();
  app.add_option("--header-timeout", c.header_timeout, "Seconds to receive a request header")
      ->envname("REGD_HEADER_TIMEOUT")
      ->capture_default_str();
  app.add_option("--idle-timeout", c.idle_timeout, "Seconds an idle keep-alive connection stays open")
      ->envname("REGD_IDLE_TIMEOUT")
      ->capture_default_str();
  app.add_option("--body-timeout", c.body_timeout, "Seconds without progress reading or sending a body")
      ->envname("REGD_BODY_TIMEOUT")
      ->capture_default_str();
  app.add_option("--max-connections", c.max_connections, "Open client connections per instance; more are closed")
      ->envname("REGD_MAX_CONNECTIONS")
      ->capture_default_str();
  app.add_option("--min-body-rate", c.min_body_rate,
                 "Bytes/s a request body must average over each 10 s window, else it is cut off (0: off)")
      ->envname("REGD_MIN_BODY_RATE")
      ->capture_default_str();
  app.add_option("--drain-delay", c.drain_delay, "Seconds to keep serving, /readyz 503, after SIGTERM")
      ->envname("REGD_DRAIN_DELAY")
      ->capture_default_str();
  app.add_option("--drain-timeout", c.drain_timeout, "Seconds in-flight requests may take at shutdown")
      ->envname("REGD_DRAIN_TIMEOUT")
      ->capture_default_str();
  add_gc_options(app, c);
  add_sync_options(app, c);
  add_auth_options(app, c.auth);
  add_tls_options(app, c.tls);
  add_limits_options(app, c.limits);
  add_upstream_options(app, c.upstream);
  add_s3_options(app, c.s3);
}

Status validate_config(const Config& c) {
  if (auto log = validate_log_config(c); !log) {
    return log;
  }
  if (c.header_timeout <= 0 || c.idle_timeout <= 0 || c.body_timeout <= 0 || c.drain_timeout < 0 || c.drain_delay < 0) {
    return fail(Errc::invalid_argument, "timeouts must be positive");
  }
  if (c.max_header_size < 1024) {
    return fail(Errc::invalid_argument, "--max-header-size must be at least 1024");
  }
  if (auto listen = parse_listen(c.listen); !listen) {
    return std::unexpected(listen.error());
  }
  if (auto patterns = validate_patterns(c.immutable_tags); !patterns) {
    return patterns;
  }
  if (c.max_connections == 0) {
    return fail(Errc::invalid_argument, "--max-connections must be at least 1");
  }
  if (auto auth = validate_auth_config(c.auth); !auth) {
    return auth;
  }
  if (auto tls = validate_tls_config(c.tls); !tls) {
    return tls;
  }
  if (auto limits = validate_limits_config(c.limits); !limits) {
    return limits;
  }
  if (auto upstream = validate_upstream_config(c.upstream); !upstream) {
    return upstream;
  }
  if (auto s3 = validate_s3_config(c); !s3) {
    return s3;
  }
  if (auto gc = validate_gc(c); !gc) {
    return gc;
  }
  return validate_sync_config(c);
}

Status apply_config_file(CLI::App& app, const std::string& path) {
  std::ifstream input(path);
  if (!input.good()) {
    return fail(Errc::io_error, "cannot read the configuration file " + path);
  }
  std::ostringstream text;
  text << input.rdbuf();
  return apply_config_text(app, text.str(), path);
}

Status apply_config_text(CLI::App& app, const std::string& text, const std::string& origin) {
  std::istringstream input(text);
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_config(input);
  } catch (const CLI::Error& e) {
    return fail(Errc::io_error, origin + ": " + e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") {
      continue;  // CLI11's markers for entering and leaving a section
    }
    if (auto applied = apply_item(app, item, origin); !applied) {
      return applied;
    }
  }
  return {};
}

std::vector<std::string> unknown_environment(const CLI::App& app, const char* const* environment) {
  std::set<std::string> known;
  for (const CLI::Option* option : app.get_options()) {
    if (!option->get_envname().empty()) {
      known.insert(option->get_envname());
    }
  }
  std::vector<std::string> unknown;
  for (const char* const* entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text = *entry;
    auto name = std::string(text.substr(0, text.find('=')));
    if (name.starts_with("REGD_") && !known.contains(name)) {
      unknown.push_back(name);
    }
  }
  std::sort(unknown.begin(), unknown.end());
  return unknown;
}

std::vector<std::string> split_patterns(std::string_view text) {
  return parse_tag_patterns(text).value_or(std::vector<std::string>{});
}

Result<ListenAddress> parse_listen(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return fail(Errc::invalid_argument, "--listen must be HOST:PORT, got " + std::string(text));
  }
  auto host = text.substr(0, colon);
  auto port = parse_uint(text.substr(colon + 1));
  if (!port || *port > 65535) {
    return fail(Errc::invalid_argument, "bad port in --listen " + std::string(text));
  }
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) {
      return fail(Errc::invalid_argument, "bad IPv6 address in --listen " + std::string(text));
    }
    host = host.substr(1, host.size() - 2);
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(*port)};
}

}  // namespace regd::daemon
