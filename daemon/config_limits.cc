// The rate-limit and quota options (docs/security.md, "Rate limits and quotas"), kept apart
// from config.cc.
#include <cmath>

#include <CLI/CLI.hpp>

#include "client_address.h"
#include "config.h"
#include "config_print.h"

namespace regd::daemon {

void add_limits_options(CLI::App& app, LimitsConfig& l) {
  app.add_option("--rate-limit-address", l.rate_limit_address, "Requests per second per client address (0: off)")
      ->envname("REGD_RATE_LIMIT_ADDRESS")
      ->capture_default_str();
  app.add_option("--rate-limit-user", l.rate_limit_user, "Requests per second per authenticated user (0: off)")
      ->envname("REGD_RATE_LIMIT_USER")
      ->capture_default_str();
  app.add_option("--rate-limit-burst", l.rate_limit_burst,
                 "Requests a client may send at once before the rate applies (0: one second's worth)")
      ->envname("REGD_RATE_LIMIT_BURST")
      ->capture_default_str();
  app.add_option("--rate-limit-entries", l.rate_limit_entries, "Clients (or users) each rate limit tracks at most")
      ->envname("REGD_RATE_LIMIT_ENTRIES")
      ->capture_default_str();
  app.add_option("--trusted-proxies", l.trusted_proxies,
                 "CIDRs of proxies whose X-Forwarded-For names the client (comma-separated)")
      ->envname("REGD_TRUSTED_PROXIES");
  app.add_option("--max-concurrent-uploads", l.max_concurrent_uploads,
                 "Upload requests with a body in flight in this instance (0: no cap)")
      ->envname("REGD_MAX_CONCURRENT_UPLOADS")
      ->capture_default_str();
  app.add_option("--max-uploads-per-repository", l.max_uploads_per_repository,
                 "Open upload sessions in one repository (0: no cap)")
      ->envname("REGD_MAX_UPLOADS_PER_REPOSITORY")
      ->capture_default_str();
  app.add_option("--max-uploads-per-user", l.max_uploads_per_user,
                 "Open upload sessions a user started through this instance (0: no cap)")
      ->envname("REGD_MAX_UPLOADS_PER_USER")
      ->capture_default_str();
  app.add_option("--max-tags-per-push", l.max_tags_per_push, "?tag= values one manifest PUT may carry (0: no cap)")
      ->envname("REGD_MAX_TAGS_PER_PUSH")
      ->capture_default_str();
}

Status validate_limits_config(const LimitsConfig& l) {
  for (double rate : {l.rate_limit_address, l.rate_limit_user, l.rate_limit_burst}) {
    if (!std::isfinite(rate) || rate < 0) {
      return fail(Errc::invalid_argument,
                  "--rate-limit-address, --rate-limit-user and --rate-limit-burst must be >= 0");
    }
  }
  if (l.rate_limit_entries == 0) {
    return fail(Errc::invalid_argument, "--rate-limit-entries must be at least 1");
  }
  if (auto proxies = TrustedProxies::parse(l.trusted_proxies); !proxies) {
    return std::unexpected(proxies.error());
  }
  return {};
}

std::vector<std::string> limits_option_keys() {
  CLI::App app;
  LimitsConfig limits;
  add_limits_options(app, limits);
  std::vector<std::string> keys;
  for (CLI::Option* option : config_options(app)) {
    keys.push_back(config_key(*option));
  }
  return keys;
}

}  // namespace regd::daemon
