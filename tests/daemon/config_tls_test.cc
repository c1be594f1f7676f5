// The TLS and connection-limit options: flags, REGD_* variables, file keys and their checks.
#include <cstdlib>
#include <fstream>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "config.h"
#include "test_util.h"

namespace regd::daemon {
namespace {

class TlsOptions : public ::testing::Test {
 protected:
  ~TlsOptions() override {
    ::unsetenv("REGD_TLS_CERT");
    ::unsetenv("REGD_TLS_KEY");
    ::unsetenv("REGD_MIN_BODY_RATE");
  }
  std::string file(const std::string& text) {
    auto path = (m_tmp.path() / "regd.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  // Parses like regd's main: flags and environment, the file, then the checks.
  Status load(std::vector<std::string> args) {
    args.insert(args.begin(), "regd");
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    add_config_options(m_app, m_config);
    m_app.parse(static_cast<int>(argv.size()), argv.data());
    if (!m_config.config_file.empty()) {
      if (auto applied = apply_config_file(m_app, m_config.config_file); !applied) {
        return applied;
      }
    }
    return validate_config(m_config);
  }

  testing::TempDir m_tmp;
  CLI::App m_app;
  Config m_config;
};

TEST_F(TlsOptions, OffByDefaultWithConnectionLimitsOn) {
  ASSERT_OK(load({}));
  EXPECT_FALSE(m_config.tls.enabled());
  EXPECT_EQ(m_config.max_connections, 4096u);
  EXPECT_EQ(m_config.min_body_rate, 1024u);
}

TEST_F(TlsOptions, FlagsSetCertKeyAndClientCa) {
  ASSERT_OK(load({"--tls-cert", "/c.pem", "--tls-key", "/k.pem", "--tls-client-ca", "/ca.pem"}));
  EXPECT_TRUE(m_config.tls.enabled());
  EXPECT_EQ(m_config.tls.cert, "/c.pem");
  EXPECT_EQ(m_config.tls.key, "/k.pem");
  EXPECT_EQ(m_config.tls.client_ca, "/ca.pem");
}

TEST_F(TlsOptions, EnvironmentAndFileKeysWork) {
  ::setenv("REGD_TLS_CERT", "/env-cert.pem", 1);
  ::setenv("REGD_MIN_BODY_RATE", "0", 1);
  auto path = file("tls_key = \"/file-key.pem\"\ntls_client_ca = \"/file-ca.pem\"\nmax_connections = 10\n");
  ASSERT_OK(load({"--config", path}));
  EXPECT_EQ(m_config.tls.cert, "/env-cert.pem");
  EXPECT_EQ(m_config.tls.key, "/file-key.pem");
  EXPECT_EQ(m_config.tls.client_ca, "/file-ca.pem");
  EXPECT_EQ(m_config.max_connections, 10u);
  EXPECT_EQ(m_config.min_body_rate, 0u);
}

TEST_F(TlsOptions, CertWithoutKeyIsRefused) {
  auto loaded = load({"--tls-cert", "/c.pem"});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, Errc::invalid_argument);
  EXPECT_NE(loaded.error().message.find("--tls-key"), std::string::npos) << loaded.error().message;
}

TEST_F(TlsOptions, KeyWithoutCertIsRefused) {
  EXPECT_ERRC(load({"--tls-key", "/k.pem"}), Errc::invalid_argument);
}

TEST_F(TlsOptions, ClientCaWithoutCertificateIsRefused) {
  EXPECT_ERRC(load({"--tls-client-ca", "/ca.pem"}), Errc::invalid_argument);
}

TEST_F(TlsOptions, ZeroMaxConnectionsIsRefused) {
  EXPECT_ERRC(load({"--max-connections", "0"}), Errc::invalid_argument);
}

}  // namespace
}  // namespace regd::daemon
