// regd's configuration written back out as the TOML file --config reads: the effective values
// (--print-config) and the commented example of every option (--example-config, which makes
// docs/examples/regd.toml through scripts/gen-example-config.sh).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace regd::daemon {

// Where each option that is not at its default got its value, by key (the long flag name without
// dashes): "--root" (the command line), "REGD_ROOT" (the environment) or the --config file's path.
using ConfigSources = std::map<std::string, std::string>;

// The options a configuration file may set, in --help order: every option of `app` but --help,
// --version, --config and the actions (--print-config, --check-config, --example-config).
std::vector<CLI::Option*> config_options(CLI::App& app);

// The key of `option` in a configuration file: its long name without the dashes.
std::string config_key(const CLI::Option& option);

// The value `option` holds now (flags, environment and file applied, or the default), as a TOML
// value: strings quoted, numbers and booleans bare. Secrets are not redacted here.
std::string config_value(CLI::Option& option);

// Whether a value of option `key` is a secret never printed: keys naming a password, secret or
// credential, but s3-credentials (a file's path). Paths to key files are not secrets (regd has
// no option holding a secret inline).
bool is_secret_key(const std::string& key);

// The value with what must not be printed replaced by <redacted>: the whole value of a secret
// key, the password of a URL's user information (https://user:<redacted>@host/).
std::string redact(const std::string& key, const std::string& value);

// The effective configuration: one `key = value` line per config_options(app), secrets redacted,
// a trailing comment naming the source of each value in `sources`. Fed back with --config (and
// no other flags), it gives the same configuration. REQUIRES: options parsed and the file applied.
std::string format_config(CLI::App& app, const ConfigSources& sources);

// Every option with its --help description and environment variable above it, commented out
// with its default value; an option given a value (`sources`) is written active with it, its
// default in the comment. The text of docs/examples/regd.toml below its header.
std::string format_example(CLI::App& app, const ConfigSources& sources);

// The key -> value map of config_options(app), for comparing two configurations (SIGHUP).
std::map<std::string, std::string> config_values(CLI::App& app);

}  // namespace regd::daemon
