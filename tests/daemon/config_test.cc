#include "config.h"

#include <cstdlib>
#include <fstream>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "test_util.h"

namespace regd::daemon {
namespace {

TEST(ParseListen, ReadsHostAndPort) {
  auto a = parse_listen("127.0.0.1:5000");
  ASSERT_OK(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 5000);
  auto all = parse_listen(":8080");
  ASSERT_OK(all);
  EXPECT_EQ(all->host, "");
  auto v6 = parse_listen("[::1]:0");
  ASSERT_OK(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
}

TEST(ParseListen, RejectsMissingOrBadPorts) {
  EXPECT_ERRC(parse_listen("localhost"), Errc::invalid_argument);
  EXPECT_ERRC(parse_listen("localhost:http"), Errc::invalid_argument);
  EXPECT_ERRC(parse_listen("localhost:70000"), Errc::invalid_argument);
  EXPECT_ERRC(parse_listen("[::1:5000"), Errc::invalid_argument);
}

TEST(Config, DefaultsServeDataOnLoopback5000) {
  Config c;
  EXPECT_EQ(c.root, "./data");
  EXPECT_EQ(c.listen, "127.0.0.1:5000");
  EXPECT_EQ(c.max_manifest_size, 4u * 1024 * 1024);
  EXPECT_OK(validate_config(c));
}

TEST(Config, FlagsBindToFields) {
  CLI::App app;
  Config c;
  add_config_options(app, c);
  std::vector<std::string> args = {"--drain-timeout", "5", "--read-only", "--listen", ":7000", "--root", "/srv/r"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  EXPECT_TRUE(c.read_only);
  EXPECT_EQ(c.listen, ":7000");
  EXPECT_EQ(c.root, "/srv/r");
  EXPECT_EQ(c.drain_timeout, 5.0);
}

TEST(Config, ValidationRejectsBadValues) {
  Config c;
  c.listen = "nowhere";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c = Config{};
  c.body_timeout = 0;
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c = Config{};
  c.log_format = "xml";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
}

// argv, environment and file as regd's main reads them.
class ConfigSources : public ::testing::Test {
 protected:
  ~ConfigSources() override { ::unsetenv("REGD_LISTEN"); }
  std::string file(const std::string& text) {
    auto path = (m_tmp.path() / "regd.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  Status load(std::vector<std::string> args) {
    args.insert(args.begin(), "regd");
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    add_config_options(m_app, m_config);
    m_app.parse(static_cast<int>(argv.size()), argv.data());
    return m_config.config_file.empty() ? Status{} : apply_config_file(m_app, m_config.config_file);
  }

  testing::TempDir m_tmp;
  CLI::App m_app;
  Config m_config;
};

TEST_F(ConfigSources, FlagsBeatEnvironmentWhichBeatsTheFile) {
  auto path = file("listen = \"127.0.0.1:1111\"\nthreads = 3\n");
  ::setenv("REGD_LISTEN", "127.0.0.1:2222", 1);
  ASSERT_OK(load({"--config", path, "--listen", "127.0.0.1:3333"}));
  EXPECT_EQ(m_config.listen, "127.0.0.1:3333");
  EXPECT_EQ(m_config.threads, 3u);
}

TEST_F(ConfigSources, EnvironmentBeatsTheFile) {
  auto path = file("listen = \"127.0.0.1:1111\"\n");
  ::setenv("REGD_LISTEN", "127.0.0.1:2222", 1);
  ASSERT_OK(load({"--config", path}));
  EXPECT_EQ(m_config.listen, "127.0.0.1:2222");
}

TEST_F(ConfigSources, TheFileBeatsTheDefaults) {
  auto path = file("listen = \"127.0.0.1:1111\"\nread-only = true\nlog-format = \"text\"\n");
  ASSERT_OK(load({"--config", path}));
  EXPECT_EQ(m_config.listen, "127.0.0.1:1111");
  EXPECT_TRUE(m_config.read_only);
  EXPECT_EQ(m_config.log_format, "text");
}

TEST_F(ConfigSources, AFalseFlagInTheFileStaysFalse) {
  ASSERT_OK(load({"--config", file("read-only = false\naccess-log = false\n")}));
  EXPECT_FALSE(m_config.read_only);
  EXPECT_FALSE(m_config.access_log);
}

TEST_F(ConfigSources, AnUnknownKeyIsAnErrorNamingTheKeyAndTheFile) {
  auto path = file("readonly = true\n");
  auto loaded = load({"--config", path});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().message, path + ": unknown key 'readonly'");
}

TEST_F(ConfigSources, ASectionIsAnError) {
  auto path = file("[regd]\nread-only = true\n");
  auto loaded = load({"--config", path});
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find(path + ": unknown key 'regd.read-only' (section [regd])"), std::string::npos)
      << loaded.error().message;
  EXPECT_FALSE(m_config.read_only);
}

TEST_F(ConfigSources, ABadValueNamesTheKeyAndTheFile) {
  auto path = file("log-format = \"xml\"\n");
  auto loaded = load({"--config", path});
  ASSERT_FALSE(loaded);
  EXPECT_TRUE(loaded.error().message.starts_with(path + ": key 'log-format': ")) << loaded.error().message;
}

TEST_F(ConfigSources, AMissingFileIsAnError) {
  EXPECT_ERRC(load({"--config", (m_tmp.path() / "absent.toml").string()}), Errc::io_error);
}

TEST_F(ConfigSources, UnknownRegdVariablesAreReported) {
  add_config_options(m_app, m_config);
  const char* environment[] = {"REGD_READONLY=true", "REGD_ROOT=/srv", "HOME=/root", "REGD_LISTN=:1", nullptr};
  EXPECT_EQ(unknown_environment(m_app, environment), (std::vector<std::string>{"REGD_LISTN", "REGD_READONLY"}));
}

TEST_F(ConfigSources, LimitOptionsComeFromFlagsTheFileAndTheEnvironment) {
  auto path = file(
      "rate-limit-address = 20\nrate-limit-burst = 40\ntrusted-proxies = \"10.0.0.0/8\"\n"
      "max-concurrent-uploads = 8\nmax-uploads-per-repository = 50\n");
  ::setenv("REGD_RATE_LIMIT_USER", "5.5", 1);
  ::setenv("REGD_MAX_UPLOADS_PER_USER", "7", 1);
  ASSERT_OK(load({"--config", path, "--max-tags-per-push", "16", "--rate-limit-entries", "1000"}));
  ::unsetenv("REGD_RATE_LIMIT_USER");
  ::unsetenv("REGD_MAX_UPLOADS_PER_USER");
  const LimitsConfig& l = m_config.limits;
  EXPECT_EQ(l.rate_limit_address, 20);
  EXPECT_EQ(l.rate_limit_user, 5.5);
  EXPECT_EQ(l.rate_limit_burst, 40);
  EXPECT_EQ(l.rate_limit_entries, 1000u);
  EXPECT_EQ(l.trusted_proxies, "10.0.0.0/8");
  EXPECT_EQ(l.max_concurrent_uploads, 8u);
  EXPECT_EQ(l.max_uploads_per_repository, 50u);
  EXPECT_EQ(l.max_uploads_per_user, 7u);
  EXPECT_EQ(l.max_tags_per_push, 16u);
  EXPECT_OK(validate_config(m_config));
}

TEST(Config, LimitsAreOffOrGenerousByDefaultAndChecked) {
  Config c;
  EXPECT_EQ(c.limits.rate_limit_address, 0);
  EXPECT_EQ(c.limits.rate_limit_user, 0);
  EXPECT_EQ(c.limits.max_tags_per_push, 64u);
  EXPECT_OK(validate_config(c));
  c.limits.trusted_proxies = "10.0.0.0/8, not-a-network";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c = Config{};
  c.limits.rate_limit_user = -1;
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c = Config{};
  c.limits.rate_limit_entries = 0;
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
}

TEST(Config, ImmutableTagPatternsAreSplitAndChecked) {
  EXPECT_EQ(split_patterns(" v*, release-* ,,"), (std::vector<std::string>{"v*", "release-*"}));
  Config c;
  c.immutable_tags = "v*,release-?";
  EXPECT_OK(validate_config(c));
  c.immutable_tags = "v/*";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
}

TEST_F(ConfigSources, PruneOptionsComeFromTheFileAndTheEnvironment) {
  auto path = file(
      "prune-interval = \"1d\"\nprune-match = \"pr-*\"\nprune-keep = 10\n"
      "prune-untagged-older-than = \"3d\"\n");
  ::setenv("REGD_PRUNE_KEEP_WITHIN", "14d", 1);
  ASSERT_OK(load({"--config", path}));
  ::unsetenv("REGD_PRUNE_KEEP_WITHIN");
  EXPECT_EQ(m_config.prune_interval, "1d");
  EXPECT_EQ(m_config.prune_match, "pr-*");
  EXPECT_EQ(m_config.prune_keep, 10u);
  EXPECT_EQ(m_config.prune_keep_within, "14d");
  EXPECT_EQ(m_config.prune_untagged_older_than, "3d");
  EXPECT_OK(validate_config(m_config));
}

TEST(Config, PruneNeedsARuleAndAnUntaggedWindowLongerThanTheLinkRefresh) {
  Config c;
  c.prune_interval = "1d";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c.prune_keep = 5;
  EXPECT_OK(validate_config(c));
  c.prune_untagged_older_than = "5m";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c.prune_untagged_older_than = "1h";
  EXPECT_OK(validate_config(c));
  c.prune_match = "pr/*";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
  c = Config{};
  c.prune_keep_within = "soon";
  EXPECT_ERRC(validate_config(c), Errc::invalid_argument);
}

}  // namespace
}  // namespace regd::daemon
