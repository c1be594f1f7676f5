// regd's settings, from command-line flags, REGD_* environment variables and a TOML/INI file
// (--config). Precedence, the conventional one: command line, then environment, then the file,
// then the defaults. Unknown keys in the file are errors; unknown REGD_* variables are warned
// about (docs/regd.md, "Configuration").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"

namespace CLI {
class App;
}

namespace regd::daemon {

// Authentication and authorization (config_auth.cc, docs/security.md). Auth is on as soon as
// any of htpasswd, auth_rules, token_key, token_trust is set.
struct AuthConfig {
  std::string htpasswd;            // bcrypt htpasswd file
  std::string auth_rules;          // access rules file
  std::string token_key;           // PEM private key signing regd's own tokens
  std::string token_trust;         // PEM public keys or certificates of external issuers
  std::string token_trust_issuer;  // the iss external tokens carry
  std::string token_issuer = "regd";
  std::string token_service = "regd";
  std::string token_realm;  // empty: <scheme>://<Host>/v2/token (with token_key)
  std::string token_ttl = "5m";
  std::string auth_cache_ttl = "1m";

  bool enabled() const {
    return !htpasswd.empty() || !auth_rules.empty() || !token_key.empty() || !token_trust.empty();
  }
};

struct Config {
  std::string root = "./data";
  std::string listen = "127.0.0.1:5000";
  unsigned threads = 0;  // 0: one per hardware core
  bool read_only = false;
  std::string log_format = "json";  // json | text
  bool access_log = true;
  uint64_t max_manifest_size = 4 * 1024 * 1024;
  uint64_t max_upload_size = 0;  // largest body of one upload request; 0: no limit
  uint32_t max_header_size = 64 * 1024;
  double header_timeout = 30;  // seconds to receive a request header, once its first byte came
  double idle_timeout = 120;   // seconds a keep-alive connection may wait for the next request
  double body_timeout = 60;    // seconds without progress while reading a body or sending one
  double drain_delay = 0;      // seconds to keep serving (readyz 503) after SIGTERM
  double drain_timeout = 30;   // seconds in-flight requests may take after accepting stopped
  // Garbage collection (docs/gc.md); durations as regd::parse_duration reads them.
  std::string gc_interval = "0";  // 0: no background GC in this instance
  std::string gc_grace = "1h";
  bool gc_delete_untagged = false;
  std::string upload_ttl = "7d";
  // Retention (regctl prune; docs/regd.md, "Background prune"): 0 / empty switch a rule off.
  std::string prune_interval = "0";  // 0: no background prune in this instance
  std::string prune_match;           // tag patterns the tag rules apply to; empty: every tag
  uint64_t prune_keep = 0;           // keep the N most recently pushed matching tags
  std::string prune_keep_within = "0";
  std::string prune_untagged_older_than = "0";
  std::string link_refresh = "10m";  // writers re-touch links they rely on when older than this
  std::string immutable_tags;        // comma-separated tag patterns ("v*,release-*"); empty: none
  std::string config_file;           // --config / REGD_CONFIG
  AuthConfig auth;
};

// Binds every Config field to a flag with a REGD_* environment variable, and --config.
void add_config_options(CLI::App& app, Config& config);

// Reads the TOML/INI file `path` and sets every option that the command line and the environment
// (already parsed into `app`) left unset. REQUIRES: app.parse() ran. Errors: invalid_argument
// naming the file and the key (a key no option has, any [section] - keys live at the top
// level -, a value the option refuses), io_error (cannot read or parse the file).
[[nodiscard]] Status apply_config_file(CLI::App& app, const std::string& path);
// The same over the file's `text`; `origin` (the file name) prefixes the messages. Errors: as
// apply_config_file, io_error meaning a syntax error.
[[nodiscard]] Status apply_config_text(CLI::App& app, const std::string& text, const std::string& origin);

// The REGD_* variables of `environment` (NAME=VALUE strings, null-terminated like environ) that
// no option reads, sorted. regd warns about them rather than refusing to start.
std::vector<std::string> unknown_environment(const CLI::App& app, const char* const* environment);

// The patterns of Config::immutable_tags, split at commas, blanks trimmed, empty ones dropped.
std::vector<std::string> split_patterns(std::string_view text);

// config_auth.cc: binds the AuthConfig fields, and checks them (durations; --token-trust needs
// --token-trust-issuer, and --token-realm unless --token-key is given). Errors: invalid_argument.
void add_auth_options(CLI::App& app, AuthConfig& auth);
[[nodiscard]] Status validate_auth_config(const AuthConfig& auth);

// Checks values CLI11 cannot (log format, listen syntax, tag patterns). Errors: invalid_argument.
[[nodiscard]] Status validate_config(const Config& config);

struct ListenAddress {
  std::string host;  // numeric address or host name; empty: every address
  uint16_t port = 0;
};

// "HOST:PORT", "[V6]:PORT" or ":PORT". Errors: invalid_argument.
[[nodiscard]] Result<ListenAddress> parse_listen(std::string_view text);

}  // namespace regd::daemon
