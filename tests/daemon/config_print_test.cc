// --print-config and --example-config as text: what the effective configuration prints, that
// it reads back as the same configuration, redaction, and the example's shape.
#include "config_print.h"

#include <cstdlib>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "config.h"
#include "config_load.h"
#include "parsed_config.h"
#include "test_util.h"

namespace regd::daemon {
namespace {

std::string line_of(const std::string& text, const std::string& start) {
  auto at = text.find("\n" + start);
  if (at == std::string::npos) {
    return {};
  }
  auto end = text.find('\n', at + 1);
  return text.substr(at + 1, end - at - 1);
}

class ConfigPrint : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    auto path = (m_tmp.path() / name).string();
    std::ofstream(path) << text;
    return path;
  }
  testing::TempDir m_tmp;
};

TEST_F(ConfigPrint, DefaultsPrintEveryOptionAsTomlValues) {
  ParsedConfig parsed({});
  ASSERT_OK(parsed.status);
  auto text = format_config(parsed.app, parsed.sources);
  EXPECT_EQ(line_of(text, "root ="), "root = \"./data\"");
  EXPECT_EQ(line_of(text, "listen ="), "listen = \"127.0.0.1:5000\"");
  EXPECT_EQ(line_of(text, "threads ="), "threads = 0");
  EXPECT_EQ(line_of(text, "read-only ="), "read-only = false");
  EXPECT_EQ(line_of(text, "access-log ="), "access-log = true");
  EXPECT_EQ(line_of(text, "header-timeout ="), "header-timeout = 30");
  EXPECT_EQ(line_of(text, "htpasswd ="), "htpasswd = \"\"");
  EXPECT_EQ(line_of(text, "max-tags-per-push ="), "max-tags-per-push = 64");
  EXPECT_EQ(line_of(text, "config ="), "") << "--config names the file; it is no key of it";
  EXPECT_EQ(line_of(text, "print-config ="), "");
  EXPECT_EQ(config_options(parsed.app).size(), config_values(parsed.app).size());
}

TEST_F(ConfigPrint, NamesWhereEachGivenValueCameFrom) {
  auto path = write("regd.toml", "threads = 3\nread-only = true\n");
  ::setenv("REGD_GC_GRACE", "2h", 1);
  ParsedConfig parsed({"--config", path, "--listen", "127.0.0.1:7000"});
  ::unsetenv("REGD_GC_GRACE");
  ASSERT_OK(parsed.status);
  auto text = format_config(parsed.app, parsed.sources);
  EXPECT_EQ(line_of(text, "listen ="), "listen = \"127.0.0.1:7000\"  # --listen");
  EXPECT_EQ(line_of(text, "gc-grace ="), "gc-grace = \"2h\"  # REGD_GC_GRACE");
  EXPECT_EQ(line_of(text, "threads ="), "threads = 3  # " + path);
  EXPECT_EQ(line_of(text, "read-only ="), "read-only = true  # " + path);
  EXPECT_EQ(line_of(text, "root ="), "root = \"./data\"");
}

// What --print-config prints, saved and given to --config alone, is the same configuration.
TEST_F(ConfigPrint, ThePrintedConfigurationReadsBackTheSame) {
  auto first = ParsedConfig({"--listen", "[::1]:7000", "--read-only", "--threads", "3", "--rate-limit-address", "2.5",
                             "--immutable-tags", "v*, release-*", "--htpasswd", "/etc/regd/htpass word", "--access-log",
                             "false", "--token-realm", "https://auth.example/token?a=1", "--gc-interval", "6h"});
  ASSERT_OK(first.status);
  auto printed = format_config(first.app, first.sources);
  auto path = write("printed.toml", printed);
  auto second = ParsedConfig({"--config", path});
  ASSERT_OK(second.status);
  auto reprinted = format_config(second.app, {});
  auto without_sources = format_config(first.app, {});
  EXPECT_EQ(reprinted, without_sources);
  EXPECT_EQ(second.config.limits.rate_limit_address, 2.5);
  EXPECT_EQ(second.config.immutable_tags, "v*, release-*");
  EXPECT_EQ(second.config.auth.htpasswd, "/etc/regd/htpass word");
  EXPECT_FALSE(second.config.access_log);
  EXPECT_TRUE(second.config.read_only);
}

TEST(ConfigRedaction, SecretKeysAndUrlPasswordsAreRedacted) {
  EXPECT_TRUE(is_secret_key("s3-secret-key"));
  EXPECT_TRUE(is_secret_key("metrics-password"));
  EXPECT_FALSE(is_secret_key("token-key"));  // a path to a key file
  EXPECT_FALSE(is_secret_key("htpasswd"));   // a path too
  EXPECT_EQ(redact("admin-password", "\"hunter2\""), "\"<redacted>\"");
  EXPECT_EQ(redact("token-realm", "\"https://user:pw@auth.example/token\""),
            "\"https://user:<redacted>@auth.example/token\"");
  EXPECT_EQ(redact("token-realm", "\"https://user@auth.example/token\""), "\"https://user@auth.example/token\"");
  EXPECT_EQ(redact("token-realm", "\"https://auth.example/a@b\""), "\"https://auth.example/a@b\"");
  EXPECT_EQ(redact("root", "\"/srv/registry\""), "\"/srv/registry\"");
}

TEST(ConfigRedaction, AnOptionHoldingASecretInlinePrintsRedacted) {
  CLI::App app;
  Config config;
  add_config_options(app, config);
  std::string password;
  app.add_option("--upstream-password", password, "A secret given inline");
  std::vector<std::string> args = {"--upstream-password", "hunter2", "--token-realm",
                                   "https://ci:tok3n@auth.example/token"};
  std::reverse(args.begin(), args.end());
  app.parse(args);
  auto text = format_config(app, {});
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("tok3n"), std::string::npos) << text;
  EXPECT_NE(text.find("upstream-password = \"<redacted>\""), std::string::npos) << text;
  EXPECT_NE(text.find("token-realm = \"https://ci:<redacted>@auth.example/token\""), std::string::npos) << text;
}

TEST_F(ConfigPrint, TheExampleListsEveryOptionCommentedOutWithItsDescription) {
  ParsedConfig parsed({});
  ASSERT_OK(parsed.status);
  auto text = format_example(parsed.app, parsed.sources);
  for (CLI::Option* option : config_options(parsed.app)) {
    auto key = config_key(*option);
    EXPECT_NE(text.find("\n# " + key + " = "), std::string::npos) << key;
    EXPECT_NE(text.find("# " + option->get_description()), std::string::npos) << key;
  }
  EXPECT_NE(text.find("\n# root = \"./data\"\n"), std::string::npos);
  EXPECT_NE(text.find("(REGD_ROOT)"), std::string::npos);
  // Every line is a comment or blank: the example changes nothing as it is.
  auto path = write("example.toml", text);
  ParsedConfig fed({"--config", path});
  ASSERT_OK(fed.status);
  EXPECT_TRUE(fed.sources.empty());
}

TEST_F(ConfigPrint, TheExampleWritesGivenValuesActiveWithTheDefaultBeside) {
  ParsedConfig parsed({"--root", "/srv/registry", "--drain-delay", "5"});
  ASSERT_OK(parsed.status);
  auto text = format_example(parsed.app, parsed.sources);
  EXPECT_NE(text.find("# default: \"./data\"\nroot = \"/srv/registry\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# default: 0\ndrain-delay = 5\n"), std::string::npos) << text;
}

TEST_F(ConfigPrint, ActionsAreNoConfigurationKeys) {
  CLI::App app;
  Config config;
  ConfigActions actions;
  add_config_options(app, config);
  add_config_actions(app, actions);
  app.parse(std::vector<std::string>{});
  auto applied = apply_config_text(app, "print-config = true\n", "regd.toml");
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().message, "regd.toml: unknown key 'print-config'");
  EXPECT_FALSE(actions.print_config);
}

// INI files (CLI11 reads both): '; comments' and key=value without quotes; an unknown key is
// an error naming the key and the file, as in TOML.
TEST_F(ConfigPrint, AnIniFileReadsAndAnUnknownKeyInItIsAnError) {
  auto path = write("regd.ini", "; regd\nread_only=true\nthreads=2\n");
  ParsedConfig ok({"--config", path});
  ASSERT_OK(ok.status);
  EXPECT_TRUE(ok.config.read_only);
  EXPECT_EQ(ok.config.threads, 2u);
  path = write("bad.ini", "; regd\nthreads=2\nrate_limit=5\n");
  ParsedConfig bad({"--config", path});
  ASSERT_FALSE(bad.status);
  EXPECT_EQ(bad.status.error().message, path + ": unknown key 'rate_limit'");
}

}  // namespace
}  // namespace regd::daemon
