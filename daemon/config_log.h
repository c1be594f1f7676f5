// The log options of regd (config_log.cc): --log-format, --log-level, --access-log, applied at
// start-up, and the SIGHUP reload of the level.
#pragma once

#include "config.h"
#include "log.h"
#include "reload.h"

namespace regd::daemon {

// Binds Config::log_format, log_level and access_log to flags with REGD_* variables.
void add_log_options(CLI::App& app, Config& config);
// Errors: invalid_argument (a format or level regd does not know).
[[nodiscard]] Status validate_log_config(const Config& config);

// Sets the log format (auto: text when stderr is a terminal, else json) and the level.
// REQUIRES: validate_log_config(config) passed.
void apply_log_config(const Config& config);

// The Reloaders part "log-level" (SIGHUP): sets the level of `next`, the configuration read
// again, logging the change.
[[nodiscard]] Result<Reloaded> reload_log_level(const Config& next);

}  // namespace regd::daemon
