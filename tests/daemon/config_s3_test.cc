// The s3:// root options: flags, REGD_S3_* variables, file keys, their checks, and how
// --print-config writes them.
#include <cstdlib>
#include <fstream>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "config.h"
#include "config_load.h"
#include "config_print.h"
#include "parsed_config.h"
#include "test_util.h"

namespace regd::daemon {
namespace {

using namespace std::chrono_literals;

class S3Options : public ::testing::Test {
 protected:
  ~S3Options() override {
    for (const char* name : {"REGD_S3_ENDPOINT", "REGD_S3_REDIRECT"}) {
      ::unsetenv(name);
    }
  }
  std::string file(const std::string& text) {
    auto path = (m_tmp.path() / "regd.toml").string();
    std::ofstream(path) << text;
    return path;
  }

  testing::TempDir m_tmp;
};

TEST_F(S3Options, AreUnsetByDefaultWithATwentyMinuteRedirect) {
  ParsedConfig parsed({});
  ASSERT_OK(parsed.status);
  const S3Config& s3 = parsed.config.s3;
  EXPECT_EQ(s3.endpoint, "");
  EXPECT_EQ(s3.region, "");
  EXPECT_EQ(s3.credentials, "");
  EXPECT_EQ(s3.profile, "");
  EXPECT_FALSE(s3.redirect);
  EXPECT_EQ(s3_redirect_ttl(parsed.config), 20min);
}

TEST_F(S3Options, FlagsSetEveryField) {
  ParsedConfig parsed({"--root", "s3://registry/prod", "--s3-endpoint", "http://127.0.0.1:7480", "--s3-region",
                       "eu-west-1", "--s3-credentials", "/etc/regd/s3.ini", "--s3-profile", "regd", "--s3-redirect",
                       "--s3-redirect-ttl", "5m"});
  ASSERT_OK(parsed.status);
  const S3Config& s3 = parsed.config.s3;
  EXPECT_EQ(parsed.config.root, "s3://registry/prod");
  EXPECT_EQ(s3.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(s3.region, "eu-west-1");
  EXPECT_EQ(s3.credentials, "/etc/regd/s3.ini");
  EXPECT_EQ(s3.profile, "regd");
  EXPECT_TRUE(s3.redirect);
  EXPECT_EQ(s3_redirect_ttl(parsed.config), 5min);
}

TEST_F(S3Options, EnvironmentAndFileKeysWork) {
  auto path = file(
      "root = \"s3://registry\"\ns3-region = \"eu-west-1\"\ns3_profile = \"regd\"\n"
      "s3-credentials = \"/etc/regd/s3.ini\"\ns3-redirect-ttl = \"1h\"\ns3-endpoint = \"http://file:1\"\n");
  ::setenv("REGD_S3_ENDPOINT", "https://s3.example.net", 1);
  ::setenv("REGD_S3_REDIRECT", "true", 1);
  ParsedConfig parsed({"--config", path});
  ASSERT_OK(parsed.status);
  const S3Config& s3 = parsed.config.s3;
  EXPECT_EQ(s3.endpoint, "https://s3.example.net") << "the environment beats the file";
  EXPECT_EQ(s3.region, "eu-west-1");
  EXPECT_EQ(s3.profile, "regd");
  EXPECT_EQ(s3.credentials, "/etc/regd/s3.ini");
  EXPECT_TRUE(s3.redirect);
  EXPECT_EQ(s3_redirect_ttl(parsed.config), 1h);
}

TEST_F(S3Options, AMisspeltKeyOrABadValueNamesTheKeyAndTheFile) {
  auto path = file("root = \"s3://registry\"\ns3-endpiont = \"http://127.0.0.1:7480\"\n");
  ParsedConfig parsed({"--config", path});
  ASSERT_FALSE(parsed.status);
  EXPECT_EQ(parsed.status.error().message, path + ": unknown key 's3-endpiont'");

  CLI::App app;
  Config config;
  add_config_options(app, config);
  auto bad = apply_config_text(app, "s3-redirect = \"sometimes\"\n", "regd.toml");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().message.starts_with("regd.toml: key 's3-redirect': ")) << bad.error().message;
}

TEST(S3Config, EachOptionNeedsAnS3Root) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--s3-endpoint", "http://127.0.0.1:7480"},
                                        {"--s3-region", "eu-west-1"},
                                        {"--s3-credentials", "/etc/regd/s3.ini"},
                                        {"--s3-profile", "regd"},
                                        {"--s3-redirect"},
                                        {"--s3-redirect-ttl", "5m"}}) {
    auto flag = args.front();
    args.insert(args.begin(), {"--root", "/srv/registry"});
    ParsedConfig parsed(args);
    ASSERT_FALSE(parsed.status) << flag;
    EXPECT_EQ(parsed.status.error().code, Errc::invalid_argument);
    EXPECT_EQ(parsed.status.error().message,
              flag +
                  " applies only to an s3:// storage root (--root s3://BUCKET[/PREFIX]), and the root is "
                  "/srv/registry");
  }
}

TEST(S3Config, TheDefaultRedirectTtlWrittenOtherwiseNeedsNoS3Root) {
  ParsedConfig parsed({"--s3-redirect-ttl", "1200s"});
  EXPECT_OK(parsed.status);
}

TEST(S3Config, TheRedirectTtlIsADurationFromOneSecondToSevenDays) {
  Config c;
  c.root = "s3://registry";
  for (const char* ttl : {"1s", "20m", "7d"}) {
    c.s3.redirect_ttl = ttl;
    SCOPED_TRACE(ttl);
    EXPECT_OK(validate_config(c));
  }
  for (const char* ttl : {"soon", "0", "8d"}) {
    c.s3.redirect_ttl = ttl;
    auto valid = validate_config(c);
    ASSERT_FALSE(valid) << ttl;
    EXPECT_TRUE(valid.error().message.starts_with("--s3-redirect-ttl")) << valid.error().message;
  }
}

// s3-credentials names a file: printed as it is (not redacted), so the printed configuration
// reads back the same.
TEST(S3Config, PrintedTheyReadBackTheSame) {
  ParsedConfig parsed({"--root", "s3://registry/prod", "--s3-endpoint", "https://s3.example.net", "--s3-credentials",
                       "/etc/regd/s3.ini", "--s3-redirect"});
  ASSERT_OK(parsed.status);
  auto printed = format_config(parsed.app, {});
  EXPECT_NE(printed.find("\ns3-credentials = \"/etc/regd/s3.ini\"\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("\ns3-redirect = true\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("\ns3-redirect-ttl = \"20m\"\n"), std::string::npos) << printed;

  CLI::App app;
  Config config;
  add_config_options(app, config);
  ASSERT_OK(apply_config_text(app, printed, "printed.toml"));
  ASSERT_OK(validate_config(config));
  EXPECT_EQ(format_config(app, {}), printed);
  EXPECT_EQ(config.s3.credentials, "/etc/regd/s3.ini");
  EXPECT_TRUE(config.s3.redirect);
}

TEST(S3Config, TheDefaultsPrintedReadBackWithADirectoryRoot) {
  CLI::App app;
  Config config;
  add_config_options(app, config);
  auto printed = format_config(app, {});
  CLI::App again;
  Config read;
  add_config_options(again, read);
  ASSERT_OK(apply_config_text(again, printed, "printed.toml"));
  EXPECT_OK(validate_config(read));
}

}  // namespace
}  // namespace regd::daemon
