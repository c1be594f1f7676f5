#include "config.h"

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

}  // namespace
}  // namespace regd::daemon
