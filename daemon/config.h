// regd's settings, from command-line flags, REGD_* environment variables and a TOML/INI file
// (--config). Precedence, the conventional one: command line, then environment, then the file,
// then the defaults. Unknown keys in the file are errors; unknown REGD_* variables are warned
// about (docs/regd.md, "Configuration").
#pragma once

#include <chrono>
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

// TLS on regd's own listener (config_tls.cc, docs/security.md "TLS"). TLS is on when cert and
// key are set (both or neither); client_ca additionally requires client certificates.
struct TlsConfig {
  std::string cert;       // PEM certificate chain, leaf first
  std::string key;        // PEM private key of the leaf
  std::string client_ca;  // PEM CA certificates that client certificates must chain to

  bool enabled() const { return !cert.empty(); }
};

// Rate limits and quotas (config_limits.cc, docs/security.md "Rate limits and quotas"). Every
// limit is per instance: nothing is shared, so a fleet admits the limit times its instances.
struct LimitsConfig {
  double rate_limit_address = 0;               // requests/s per client address; 0: off
  double rate_limit_user = 0;                  // requests/s per authenticated user; 0: off
  double rate_limit_burst = 0;                 // bucket size; 0: one second's worth (at least 1)
  uint32_t rate_limit_entries = 100000;        // buckets kept per limit, at most
  std::string trusted_proxies;                 // CIDRs whose X-Forwarded-For is believed
  uint32_t max_concurrent_uploads = 256;       // upload bodies in flight per instance; 0: no cap
  uint32_t max_uploads_per_repository = 1000;  // open sessions in a repository's _uploads; 0: no cap
  uint32_t max_uploads_per_user = 100;         // open sessions a user started through this instance; 0: no cap
  uint32_t max_tags_per_push = 64;             // ?tag= values of one manifest PUT

  bool operator==(const LimitsConfig&) const = default;
};

// The pull-through cache (config_upstream.cc, docs/mirror.md): repository PREFIX/NAME is served
// from repository NAME of the registry at URL.
struct UpstreamConfig {
  std::vector<std::string> upstreams;  // PREFIX=URL, URL http:// or https://HOST[:PORT]
  std::string authfile;                // credentials by host (containers auth.json); empty: the usual files
  bool tls_verify = true;              // verify upstream certificates
  std::string ca;                      // PEM CAs for upstream certificates; empty: the system's
  std::string ttl = "5m";              // a cached tag is revalidated when older than this
  std::string timeout = "10s";         // connect/read timeout of upstream requests
  uint32_t fetches = 16;               // upstream fetches in flight per instance (worker threads)

  bool enabled() const { return !upstreams.empty(); }
};

// An s3:// storage root (config_s3.cc, docs/regd.md "S3 storage (s3://)"): where the service is
// and who regd is to it. Empty fields fall back to the AWS_* variables (regd/storage_root.h).
// Every field needs an s3:// --root.
struct S3Config {
  std::string endpoint;              // http://HOST:PORT or https://HOST[:PORT]
  std::string region;                // the SigV4 region
  std::string credentials;           // shared credentials file (AWS's format), not the keys themselves
  std::string profile;               // its section
  bool redirect = false;             // blob GETs answer 307 to a presigned URL instead of the bytes
  std::string redirect_ttl = "20m";  // how long such a URL stays valid
};

// One --upstream, parsed.
struct UpstreamMapping {
  std::string prefix;       // a repository name; PREFIX/NAME is served from NAME
  std::string host;         // HOST[:PORT]
  bool plain_http = false;  // http:// rather than https://
};

struct Config {
  std::string root = "./data";
  std::string listen = "127.0.0.1:5000";
  unsigned threads = 0;          // 0: one per hardware core
  unsigned storage_threads = 0;  // workers for blocking storage calls (storage_pool.h); 0: max(4, 2 x cores)
  bool read_only = false;
  std::string log_format = "auto";  // auto (text on a terminal, else json) | json | text
  std::string log_level = "info";   // debug | info | warn | error (config_log.h)
  bool access_log = true;
  uint64_t max_manifest_size = 4 * 1024 * 1024;
  uint64_t manifest_cache_size = 64 * 1024 * 1024;  // manifests kept in memory by digest, bytes; 0: none
  uint64_t max_upload_size = 0;                     // largest body of one upload request; 0: no limit
  uint32_t max_header_size = 64 * 1024;
  double header_timeout = 30;       // seconds to receive a request header, once its first byte came
  double idle_timeout = 120;        // seconds a keep-alive connection may wait for the next request
  double body_timeout = 60;         // seconds without progress while reading a body or sending one
  uint32_t max_connections = 4096;  // open client connections per instance; more are closed at once
  uint64_t min_body_rate = 1024;    // bytes/s a request body must average per 10 s window; 0: off
  double drain_delay = 0;           // seconds to keep serving (readyz 503) after SIGTERM
  double drain_timeout = 30;        // seconds in-flight requests may take after accepting stopped
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
  // Periodic mirroring (config_sync.cc, docs/mirror.md "Periodic sync inside regd"): the rules
  // of regctl sync's file, run every sync_interval under the GC lease; credentials and TLS from
  // the upstream_* options.
  std::string sync_file;             // empty: no background sync
  std::string sync_interval = "0";   // 0: 1h when sync_file is set (k_default_sync_interval)
  std::string link_refresh = "10m";  // writers re-touch links they rely on when older than this
  std::string immutable_tags;        // comma-separated tag patterns ("v*,release-*"); empty: none
  std::string config_file;           // --config / REGD_CONFIG
  AuthConfig auth;
  TlsConfig tls;
  LimitsConfig limits;
  UpstreamConfig upstream;
  S3Config s3;
};

// Binds every Config field to a flag with a REGD_* environment variable, and --config.
void add_config_options(CLI::App& app, Config& config);

// The size of the storage pool: --storage-threads, or when 0 max(4, 2 x cores) (an fsync waits
// on the disk, not on a core).
unsigned storage_threads(const Config& config);

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

// config_tls.cc: binds the TlsConfig fields, and checks them (cert and key together; a client CA
// needs them). Files are read at start-up (tls.h), not here. Errors: invalid_argument.
void add_tls_options(CLI::App& app, TlsConfig& tls);
[[nodiscard]] Status validate_tls_config(const TlsConfig& tls);

// config_limits.cc: binds the LimitsConfig fields, and checks them (non-negative rates, the
// proxy list parses). Errors: invalid_argument.
void add_limits_options(CLI::App& app, LimitsConfig& limits);
[[nodiscard]] Status validate_limits_config(const LimitsConfig& limits);
// The configuration keys of the LimitsConfig fields (rate-limit-address, ...): what SIGHUP
// applies without a restart.
std::vector<std::string> limits_option_keys();

// config_upstream.cc: binds the UpstreamConfig fields, and checks them (mappings parse, prefixes
// do not nest, durations). Errors: invalid_argument.
void add_upstream_options(CLI::App& app, UpstreamConfig& upstream);
[[nodiscard]] Status validate_upstream_config(const UpstreamConfig& upstream);
// "PREFIX=URL" values. Errors: invalid_argument naming the value.
[[nodiscard]] Result<std::vector<UpstreamMapping>> parse_upstreams(const std::vector<std::string>& values);

// config_sync.cc: binds --sync-file and --sync-interval, and checks them: the interval parses
// and needs a file (validate_sync_config, part of validate_config); the file loads
// (check_sync_file, which reads it: regd/sync.h, a missing file, bad JSON or an unknown key is
// an error naming the file and the mirror). Errors: invalid_argument.
void add_sync_options(CLI::App& app, Config& config);
[[nodiscard]] Status validate_sync_config(const Config& config);
[[nodiscard]] Status check_sync_file(const Config& config);
// The interval of the background sync: --sync-interval, or 1h when it is 0 and a file is given;
// 0 when there is no file. REQUIRES: validated.
std::chrono::seconds sync_interval(const Config& config);

// config_s3.cc: binds the S3Config fields, and checks them: each needs an s3:// --root, and
// --s3-redirect-ttl is a duration of 1s to 7d (the longest a SigV4 presigned URL lives).
// Errors: invalid_argument.
void add_s3_options(CLI::App& app, S3Config& s3);
[[nodiscard]] Status validate_s3_config(const Config& config);
// --s3-redirect-ttl in seconds. REQUIRES: validated.
std::chrono::seconds s3_redirect_ttl(const Config& config);

// Checks values CLI11 cannot (log format, listen syntax, tag patterns). Errors: invalid_argument.
[[nodiscard]] Status validate_config(const Config& config);

struct ListenAddress {
  std::string host;  // numeric address or host name; empty: every address
  uint16_t port = 0;
};

// "HOST:PORT", "[V6]:PORT" or ":PORT". Errors: invalid_argument.
[[nodiscard]] Result<ListenAddress> parse_listen(std::string_view text);

}  // namespace regd::daemon
