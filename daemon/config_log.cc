#include "config_log.h"

#include <algorithm>

#include <CLI/CLI.hpp>
#include <unistd.h>

namespace regd::daemon {

void add_log_options(CLI::App& app, Config& c) {
  app.add_option("--log-format", c.log_format, "Log format: json, text, or auto (text when stderr is a terminal)")
      ->envname("REGD_LOG_FORMAT")
      ->check(CLI::IsMember({"auto", "json", "text"}))
      ->capture_default_str();
  app.add_option("--log-level", c.log_level, "Lowest level logged: debug, info, warn or error (SIGHUP re-reads it)")
      ->envname("REGD_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--access-log", c.access_log, "Log every request (true/false), at info level")
      ->envname("REGD_ACCESS_LOG");
}

Status validate_log_config(const Config& c) {
  if (c.log_format != "auto" && c.log_format != "json" && c.log_format != "text") {
    return fail(Errc::invalid_argument, "--log-format must be auto, json or text");
  }
  if (!parse_log_level(c.log_level)) {
    return fail(Errc::invalid_argument, "--log-level must be debug, info, warn or error");
  }
  return {};
}

void apply_log_config(const Config& c) {
  bool text = c.log_format == "text" || (c.log_format == "auto" && ::isatty(STDERR_FILENO) == 1);
  set_log_format(text ? LogFormat::text : LogFormat::json);
  set_log_level(parse_log_level(c.log_level).value_or(LogLevel::info));
}

Result<Reloaded> reload_log_level(const Config& next) {
  if (auto valid = validate_log_config(next); !valid) {
    return std::unexpected(valid.error());
  }
  auto level = *parse_log_level(next.log_level);
  auto old = log_level();
  if (level == old) {
    return Reloaded::unchanged;
  }
  // Said at info level while either level shows info lines, so the change is on record.
  set_log_level(std::min(old, level));
  log(LogLevel::info, "log level reloaded", {{"from", log_level_name(old)}, {"to", log_level_name(level)}});
  set_log_level(level);
  return Reloaded::changed;
}

}  // namespace regd::daemon
