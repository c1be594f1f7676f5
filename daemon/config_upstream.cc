// The pull-through cache options (docs/mirror.md), kept apart from config.cc.
#include <CLI/CLI.hpp>

#include "config.h"
#include "regd/duration.h"
#include "regd/reference.h"

namespace regd::daemon {

namespace {

// "http://HOST[:PORT]" or "https://HOST[:PORT]", a trailing '/' allowed, nothing else.
Status parse_url(std::string_view url, UpstreamMapping& mapping) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
    mapping.plain_http = true;
  } else {
    return fail(Errc::invalid_argument, "URL must start with https:// or http://");
  }
  if (rest.ends_with('/')) {
    rest.remove_suffix(1);
  }
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return fail(Errc::invalid_argument, "URL must be scheme://HOST[:PORT], without a path or credentials");
  }
  mapping.host = std::string(rest);
  return {};
}

}  // namespace

void add_upstream_options(CLI::App& app, UpstreamConfig& u) {
  app.add_option("--upstream", u.upstreams,
                 "PREFIX=URL: serve repository PREFIX/NAME from NAME at URL as a pull-through cache (repeatable)")
      ->envname("REGD_UPSTREAM")
      ->delimiter(',');
  app.add_option("--upstream-authfile", u.authfile,
                 "Credentials for the upstreams, by host (containers auth.json format)")
      ->envname("REGD_UPSTREAM_AUTHFILE");
  app.add_option("--upstream-tls-verify", u.tls_verify, "Verify the certificates of https:// upstreams")
      ->envname("REGD_UPSTREAM_TLS_VERIFY")
      ->capture_default_str();
  app.add_option("--upstream-ca", u.ca, "PEM CA certificates upstream certificates must chain to")
      ->envname("REGD_UPSTREAM_CA");
  app.add_option("--upstream-ttl", u.ttl, "Revalidate a cached tag with its upstream when older than this")
      ->envname("REGD_UPSTREAM_TTL")
      ->capture_default_str();
  app.add_option("--upstream-timeout", u.timeout,
                 "Connect and read timeout of upstream requests; past it a cached tag is served stale")
      ->envname("REGD_UPSTREAM_TIMEOUT")
      ->capture_default_str();
  app.add_option("--upstream-fetches", u.fetches, "Upstream requests in flight per instance (worker threads)")
      ->envname("REGD_UPSTREAM_FETCHES")
      ->capture_default_str();
}

Result<std::vector<UpstreamMapping>> parse_upstreams(const std::vector<std::string>& values) {
  std::vector<UpstreamMapping> mappings;
  for (const std::string& value : values) {
    auto where = "--upstream " + value + ": ";
    auto eq = value.find('=');
    if (eq == std::string::npos) {
      return fail(Errc::invalid_argument, where + "expected PREFIX=URL");
    }
    UpstreamMapping mapping;
    mapping.prefix = value.substr(0, eq);
    if (auto valid = validate_repository(mapping.prefix); !valid) {
      return fail(Errc::invalid_argument, where + "PREFIX is not a repository name");
    }
    if (auto url = parse_url(std::string_view(value).substr(eq + 1), mapping); !url) {
      return fail(Errc::invalid_argument, where + url.error().message);
    }
    for (const UpstreamMapping& other : mappings) {
      const std::string& a = other.prefix;
      const std::string& b = mapping.prefix;
      if (a == b || b.starts_with(a + "/") || a.starts_with(b + "/")) {
        return fail(Errc::invalid_argument, where + "PREFIX overlaps the upstream prefix " + a);
      }
    }
    mappings.push_back(std::move(mapping));
  }
  return mappings;
}

Status validate_upstream_config(const UpstreamConfig& u) {
  if (auto mappings = parse_upstreams(u.upstreams); !mappings) {
    return std::unexpected(mappings.error());
  }
  for (const auto& [name, text] : {std::pair{"--upstream-ttl", &u.ttl}, std::pair{"--upstream-timeout", &u.timeout}}) {
    if (auto parsed = parse_duration(*text); !parsed) {
      return fail(Errc::invalid_argument, std::string(name) + ": " + parsed.error().message);
    }
  }
  if (parse_duration(u.timeout)->count() == 0) {
    return fail(Errc::invalid_argument, "--upstream-timeout must be at least 1s");
  }
  if (u.fetches == 0) {
    return fail(Errc::invalid_argument, "--upstream-fetches must be at least 1");
  }
  return {};
}

}  // namespace regd::daemon
