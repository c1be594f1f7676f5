#include "config.h"

#include <CLI/CLI.hpp>

#include "http_util.h"
#include "regd/duration.h"

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
}

Status validate_gc(const Config& c) {
  for (const std::string* text : {&c.gc_interval, &c.gc_grace, &c.upload_ttl, &c.link_refresh}) {
    if (auto parsed = parse_duration(*text); !parsed) {
      return std::unexpected(parsed.error());
    }
  }
  if (*parse_duration(c.gc_interval) != std::chrono::seconds(0) &&
      *parse_duration(c.gc_grace) <= *parse_duration(c.link_refresh)) {
    return fail(Errc::invalid_argument, "--gc-grace must be longer than --link-refresh (docs/gc.md)");
  }
  return {};
}

}  // namespace

void add_config_options(CLI::App& app, Config& c) {
  app.set_config("--config", "", "Read options from this TOML/INI file (keys are the long flag names)");
  app.add_option("--root", c.root, "Storage root (registry:2 layout)")->envname("REGD_ROOT")->capture_default_str();
  app.add_option("--listen", c.listen, "Address to listen on, HOST:PORT")
      ->envname("REGD_LISTEN")
      ->capture_default_str();
  app.add_option("--threads", c.threads, "I/O threads (0: one per core)")->envname("REGD_THREADS");
  app.add_flag("--read-only", c.read_only, "Refuse every write with 405 UNSUPPORTED")->envname("REGD_READ_ONLY");
  app.add_option("--log-format", c.log_format, "Log format: json or text")
      ->envname("REGD_LOG_FORMAT")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  app.add_option("--access-log", c.access_log, "Log every request (true/false)")->envname("REGD_ACCESS_LOG");
  app.add_option("--max-manifest-size", c.max_manifest_size, "Largest manifest accepted, bytes")
      ->envname("REGD_MAX_MANIFEST_SIZE")
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
  app.add_option("--drain-delay", c.drain_delay, "Seconds to keep serving, /readyz 503, after SIGTERM")
      ->envname("REGD_DRAIN_DELAY")
      ->capture_default_str();
  app.add_option("--drain-timeout", c.drain_timeout, "Seconds in-flight requests may take at shutdown")
      ->envname("REGD_DRAIN_TIMEOUT")
      ->capture_default_str();
  add_gc_options(app, c);
}

Status validate_config(const Config& c) {
  if (c.log_format != "json" && c.log_format != "text") {
    return fail(Errc::invalid_argument, "--log-format must be json or text");
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
  return validate_gc(c);
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
