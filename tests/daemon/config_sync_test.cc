#include <cstdlib>
#include <fstream>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "config.h"
#include "test_util.h"

namespace regd::daemon {
namespace {

class SyncConfig : public ::testing::Test {
 protected:
  ~SyncConfig() override { ::unsetenv("REGD_SYNC_INTERVAL"); }
  std::string file(const std::string& name, const std::string& text) {
    auto path = (m_tmp.path() / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::string good_file() {
    return file("mirrors.json",
                R"({"mirrors": [{"source": "docker://127.0.0.1:5000/team/app", "target": "mirror/app",
                                 "tags": ["v*"]}]})");
  }
  void parse(std::vector<std::string> args) {
    add_config_options(m_app, m_config);
    std::reverse(args.begin(), args.end());
    m_app.parse(args);
  }

  testing::TempDir m_tmp;
  CLI::App m_app;
  Config m_config;
};

TEST_F(SyncConfig, IsOffByDefault) {
  EXPECT_OK(validate_config(m_config));
  EXPECT_OK(check_sync_file(m_config));
  EXPECT_EQ(sync_interval(m_config).count(), 0);
}

TEST_F(SyncConfig, FlagsBindToFields) {
  auto path = good_file();
  parse({"--sync-file", path, "--sync-interval", "15m"});
  EXPECT_EQ(m_config.sync_file, path);
  EXPECT_EQ(m_config.sync_interval, "15m");
  EXPECT_OK(validate_config(m_config));
  EXPECT_EQ(sync_interval(m_config).count(), 900);
}

TEST_F(SyncConfig, EnvironmentAndTheConfigFileSetThem) {
  auto path = good_file();
  ::setenv("REGD_SYNC_INTERVAL", "30s", 1);
  auto toml = file("regd.toml", "sync-file = \"" + path + "\"\n");
  parse({"--config", toml});
  ASSERT_OK(apply_config_file(m_app, toml));
  EXPECT_EQ(m_config.sync_file, path);
  EXPECT_EQ(m_config.sync_interval, "30s");
  EXPECT_OK(validate_config(m_config));
}

TEST_F(SyncConfig, AFileWithoutAnIntervalRunsHourly) {
  m_config.sync_file = good_file();
  EXPECT_OK(validate_config(m_config));
  EXPECT_OK(check_sync_file(m_config));
  EXPECT_EQ(sync_interval(m_config).count(), 3600);
}

TEST_F(SyncConfig, AnIntervalWithoutAFileIsRefused) {
  m_config.sync_interval = "1m";
  auto valid = validate_config(m_config);
  ASSERT_FALSE(valid);
  EXPECT_EQ(valid.error().message, "--sync-interval needs --sync-file");
}

TEST_F(SyncConfig, ABadIntervalIsRefused) {
  m_config.sync_file = good_file();
  m_config.sync_interval = "soon";
  EXPECT_ERRC(validate_config(m_config), Errc::invalid_argument);
}

TEST_F(SyncConfig, AMalformedFileIsRefusedNamingIt) {
  m_config.sync_file = file("bad.json", R"({"mirrors": [)");
  EXPECT_OK(validate_config(m_config));
  auto valid = check_sync_file(m_config);
  ASSERT_FALSE(valid);
  EXPECT_EQ(valid.error().code, Errc::invalid_argument);
  EXPECT_TRUE(valid.error().message.starts_with("--sync-file " + m_config.sync_file + ": ")) << valid.error().message;
}

TEST_F(SyncConfig, AnUnknownKeyIsRefusedNamingTheMirrorAndTheKey) {
  m_config.sync_file = file("unknown.json", R"({"mirrors": [{"source": "docker://h:1/a", "target": "b",
                                                              "tags": ["*"], "newst": 2}]})");
  EXPECT_OK(validate_config(m_config));
  auto valid = check_sync_file(m_config);
  ASSERT_FALSE(valid);
  EXPECT_NE(valid.error().message.find("mirrors[0]: unknown key \"newst\""), std::string::npos)
      << valid.error().message;
}

TEST_F(SyncConfig, AMissingFileIsRefused) {
  m_config.sync_file = (m_tmp.path() / "absent.json").string();
  EXPECT_OK(validate_config(m_config));
  EXPECT_ERRC(check_sync_file(m_config), Errc::invalid_argument);
}

}  // namespace
}  // namespace regd::daemon
