// SIGHUP's bookkeeping (reload.h) and the limits it reconfigures (request_limits.h), without a
// server: parts get the configuration read again, the summary sorts them, options no part
// applies are named for a restart, a configuration that no longer reads keeps the last one.
#include "reload.h"

#include <gtest/gtest.h>

#include "request_limits.h"
#include "test_util.h"

namespace regd::daemon {
namespace {

ConfigSnapshot snapshot(double rate, const std::string& listen) {
  ConfigSnapshot s;
  s.config.limits.rate_limit_address = rate;
  s.config.listen = listen;
  s.values = {{"rate-limit-address", std::to_string(rate)}, {"listen", listen}};
  return s;
}

TEST(Reload, PartsGetTheNewConfigurationAndTheSummarySortsThem) {
  Reloaders reloaders;
  Result<ConfigSnapshot> next = snapshot(5, "127.0.0.1:5000");
  reloaders.set_config(snapshot(1, "127.0.0.1:5000"), [&] { return next; });
  double seen = 0;
  reloaders.add("limits",
                [&](const Config& c) -> Result<Reloaded> {
                  seen = c.limits.rate_limit_address;
                  return Reloaded::changed;
                },
                {"rate-limit-address"});
  reloaders.add("log-level", [](const Config&) -> Result<Reloaded> { return Reloaded::unchanged; });
  reloaders.add("tls", [](const Config&) -> Result<Reloaded> { return fail(Errc::invalid_argument, "bad.pem: no"); });
  reloaders.add_parts([](const Config&, ReloadSummary& summary) {
    record(summary, "htpasswd", Reloaded::changed);
    record(summary, "auth-rules", fail(Errc::invalid_argument, "rules: line 3: what"));
  });
  auto summary = reloaders.run();
  EXPECT_EQ(seen, 5);
  EXPECT_EQ(summary.reloaded, (std::vector<std::string>{"limits", "htpasswd"}));
  EXPECT_EQ(summary.unchanged, (std::vector<std::string>{"log-level"}));
  EXPECT_EQ(summary.failed, (std::vector<std::string>{"tls", "auth-rules"}));
  EXPECT_EQ(summary.errors, (std::vector<std::string>{"tls: bad.pem: no", "auth-rules: rules: line 3: what"}));
  EXPECT_TRUE(summary.restart_needed.empty());
}

TEST(Reload, ChangedOptionsNoPartAppliesNeedARestart) {
  Reloaders reloaders;
  reloaders.set_config(snapshot(1, "127.0.0.1:5000"), [] { return snapshot(2, "0.0.0.0:5000"); });
  reloaders.add("limits", [](const Config&) -> Result<Reloaded> { return Reloaded::changed; }, {"rate-limit-address"});
  auto summary = reloaders.run();
  EXPECT_EQ(summary.restart_needed, (std::vector<std::string>{"listen"}));
  EXPECT_EQ(summary.reloaded, (std::vector<std::string>{"limits"}));
}

// A file that no longer reads fails as "config"; the parts get the configuration read last, so
// limits reloaded before stay as they are (and files still get re-read).
TEST(Reload, AConfigurationThatNoLongerReadsKeepsTheOneReadLast) {
  Reloaders reloaders;
  Result<ConfigSnapshot> next = snapshot(7, "127.0.0.1:5000");
  reloaders.set_config(snapshot(1, "127.0.0.1:5000"), [&] { return next; });
  std::vector<double> seen;
  reloaders.add("limits",
                [&](const Config& c) -> Result<Reloaded> {
                  seen.push_back(c.limits.rate_limit_address);
                  return Reloaded::changed;
                },
                {"rate-limit-address"});
  reloaders.run();
  next = fail(Errc::invalid_argument, "regd.toml: unknown key 'rate-limit'");
  auto summary = reloaders.run();
  EXPECT_EQ(seen, (std::vector<double>{7, 7}));
  EXPECT_EQ(summary.failed, (std::vector<std::string>{"config"}));
  EXPECT_EQ(summary.errors, (std::vector<std::string>{"config: regd.toml: unknown key 'rate-limit'"}));
}

Request get_from(const std::string& peer) {
  Request r;
  r.method = Method::get;
  r.path = "/v2/";
  r.remote_address = peer;
  return r;
}

// Admitted requests from one address before the first 429 (bounded).
int admitted(Limits& limits, const std::string& peer) {
  int n = 0;
  while (n < 100 && !limits.check_address(get_from(peer))) {
    ++n;
  }
  return n;
}

TEST(LimitsReconfigure, NewRatesApplyToTheNextRequestAndUnchangedOnesKeepTheirBuckets) {
  auto now = RateLimiter::Clock::now();
  LimitsConfig config;
  config.rate_limit_address = 0.001;
  config.rate_limit_burst = 2;
  Limits limits(config, [&] { return now; });
  EXPECT_EQ(admitted(limits, "192.0.2.1"), 2);
  EXPECT_FALSE(limits.reconfigure(config)) << "the same limits change nothing";
  EXPECT_EQ(admitted(limits, "192.0.2.1"), 0) << "an unchanged limit keeps its buckets";
  config.max_tags_per_push = 3;
  EXPECT_TRUE(limits.reconfigure(config));
  EXPECT_EQ(limits.max_tags_per_push(), 3u);
  EXPECT_EQ(admitted(limits, "192.0.2.1"), 0) << "a rate left alone keeps its buckets";
  config.rate_limit_burst = 5;
  EXPECT_TRUE(limits.reconfigure(config));
  EXPECT_EQ(admitted(limits, "192.0.2.1"), 5);
  config.rate_limit_address = 0;
  EXPECT_TRUE(limits.reconfigure(config));
  EXPECT_EQ(admitted(limits, "192.0.2.1"), 100) << "0 switches the limit off";
}

}  // namespace
}  // namespace regd::daemon
