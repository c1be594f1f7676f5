// The global options (--root, --s3-*, ...) and how open_session picks and checks the storage root.
#include "context.h"

#include <cstdlib>

#include <CLI/CLI.hpp>

#include "test_util.h"

namespace regd::cli {
namespace {

// regctl's global options over `args` (argv[0] added), with the environment as it is.
GlobalOptions parse_globals(std::vector<std::string> args) {
  CLI::App app;
  GlobalOptions global;
  add_global_options(app, global);
  args.insert(args.begin(), "regctl");
  std::vector<const char*> argv;
  for (const auto& a : args) {
    argv.push_back(a.c_str());
  }
  app.parse(static_cast<int>(argv.size()), argv.data());
  return global;
}

class GlobalOptionsTest : public ::testing::Test {
 protected:
  ~GlobalOptionsTest() override {
    for (const char* name :
         {"REGCTL_ROOT", "REGCTL_S3_ENDPOINT", "REGCTL_S3_REGION", "REGCTL_S3_CREDENTIALS", "REGCTL_S3_PROFILE"}) {
      ::unsetenv(name);
    }
  }
};

TEST_F(GlobalOptionsTest, S3FlagsSetTheS3Options) {
  auto global = parse_globals({"--root", "s3://registry/prod", "--s3-endpoint", "http://127.0.0.1:7480", "--s3-region",
                               "eu-west-1", "--s3-credentials", "/etc/regctl/s3.ini", "--s3-profile", "ci"});
  EXPECT_EQ(global.root, "s3://registry/prod");
  EXPECT_EQ(global.s3.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(global.s3.region, "eu-west-1");
  EXPECT_EQ(global.s3.credentials_file, "/etc/regctl/s3.ini");
  EXPECT_EQ(global.s3.profile, "ci");
}

TEST_F(GlobalOptionsTest, S3OptionsFallBackToRegctlVariablesAndFlagsWin) {
  ::setenv("REGCTL_ROOT", "s3://registry", 1);
  ::setenv("REGCTL_S3_ENDPOINT", "https://s3.example.net", 1);
  ::setenv("REGCTL_S3_REGION", "eu-west-1", 1);
  ::setenv("REGCTL_S3_CREDENTIALS", "/etc/regctl/s3.ini", 1);
  ::setenv("REGCTL_S3_PROFILE", "ci", 1);
  auto global = parse_globals({"--s3-region", "us-west-2"});
  EXPECT_EQ(global.root, "s3://registry");
  EXPECT_EQ(global.s3.endpoint, "https://s3.example.net");
  EXPECT_EQ(global.s3.region, "us-west-2");
  EXPECT_EQ(global.s3.credentials_file, "/etc/regctl/s3.ini");
  EXPECT_EQ(global.s3.profile, "ci");
}

TEST_F(GlobalOptionsTest, UnsetS3OptionsStayEmptyForTheAwsVariables) {
  auto global = parse_globals({"--root", "/srv/registry"});
  EXPECT_EQ(global.s3.endpoint, "");
  EXPECT_EQ(global.s3.region, "");
  EXPECT_EQ(global.s3.credentials_file, "");
  EXPECT_EQ(global.s3.profile, "");
}

TEST(OpenSession, AMissingDirectoryIsNoRegistryAndIsNotCreated) {
  testing::TempDir tmp;
  GlobalOptions global;
  global.root = (tmp.path() / "absent").string();
  auto session = open_session(global, Access::write);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, Errc::no_registry);
  EXPECT_NE(session.error().message.find("--init"), std::string::npos) << session.error().message;
  EXPECT_FALSE(std::filesystem::exists(global.root));
}

// An s3:// root is opened as a bucket, not checked as a directory: without an endpoint it is
// refused for that reason (a usage error), before any request.
TEST(OpenSession, AnS3RootIsNoDirectory) {
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"}) {
    ::unsetenv(name);
  }
  GlobalOptions global;
  global.root = "s3://registry/prod";
  auto session = open_session(global, Access::read);
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().code, Errc::invalid_argument) << session.error().message;
  EXPECT_NE(session.error().message.find("endpoint"), std::string::npos) << session.error().message;
}

}  // namespace
}  // namespace regd::cli
