#include "remote_auth.h"

#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "regd/base64.h"
#include "test_util.h"

namespace regd::remote {
namespace {

using namespace std::chrono_literals;

TEST(RemoteAuth, ParsesABearerChallenge) {
  auto challenges = parse_challenges(
      R"(Bearer realm="https://auth.test:5001/token",service="registry.test",scope="repository:a/b:pull,push")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params["realm"], "https://auth.test:5001/token");
  EXPECT_EQ(challenges[0].params["service"], "registry.test");
  EXPECT_EQ(challenges[0].params["scope"], "repository:a/b:pull,push");
}

TEST(RemoteAuth, ParsesSeveralChallengesBlanksEscapesAndTokens) {
  auto challenges =
      parse_challenges(R"(Basic realm="a \"quoted\" realm", charset=UTF-8,  BEARER Realm = "r" ,error=x)");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].params["realm"], "a \"quoted\" realm");
  EXPECT_EQ(challenges[0].params["charset"], "UTF-8");
  EXPECT_EQ(challenges[1].scheme, "bearer");
  EXPECT_EQ(challenges[1].params["realm"], "r");
  EXPECT_EQ(challenges[1].params["error"], "x");
}

TEST(RemoteAuth, SurvivesBrokenChallenges) {
  EXPECT_TRUE(parse_challenges("").empty());
  auto unterminated = parse_challenges(R"(Bearer realm="never closed)");
  ASSERT_EQ(unterminated.size(), 1u);
  EXPECT_FALSE(unterminated[0].params.contains("realm"));
  auto bare = parse_challenges("Basic");
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_TRUE(bare[0].params.empty());
}

std::function<std::optional<std::string>(const char*)> env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

TEST(RemoteAuth, LooksUpAuthFilesInSkopeosOrder) {
  auto env = env_of({{"REGISTRY_AUTH_FILE", "/r.json"}, {"XDG_RUNTIME_DIR", "/run/u"}, {"HOME", "/home/u"}});
  EXPECT_EQ(auth_file_candidates("", env),
            (std::vector<std::string>{"/r.json", "/run/u/containers/auth.json", "/home/u/.docker/config.json"}));
  EXPECT_EQ(auth_file_candidates("/given.json", env), std::vector<std::string>{"/given.json"});
  EXPECT_EQ(auth_file_candidates("", env_of({{"HOME", "/h"}})), std::vector<std::string>{"/h/.docker/config.json"});
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string auth_json(const std::string& key, const std::string& user_pass) {
  return R"({"auths": {")" + key + R"(": {"auth": ")" + base64_encode(user_pass) + R"("}}})";
}

TEST(RemoteAuth, FindsTheFirstFileThatNamesTheHost) {
  testing::TempDir dir;
  auto xdg = dir.path() / "xdg";
  auto home = dir.path() / "home";
  write_file(xdg / "containers/auth.json", auth_json("127.0.0.1:5000", "alice:s3cr:et"));
  write_file(home / ".docker/config.json",
             auth_json("https://127.0.0.1:5001/v1/", "bob:pw").replace(0, 1, R"({"credsStore": "x", )"));
  auto env = env_of({{"XDG_RUNTIME_DIR", xdg.string()}, {"HOME", home.string()}});

  auto alice = find_credentials("127.0.0.1:5000", "", env);
  ASSERT_OK(alice);
  ASSERT_TRUE(alice->has_value());
  EXPECT_EQ((*alice)->username, "alice");
  EXPECT_EQ((*alice)->password, "s3cr:et");  // only the first ':' separates

  auto bob = find_credentials("127.0.0.1:5001", "", env);  // the docker file, its key a URL
  ASSERT_OK(bob);
  ASSERT_TRUE(bob->has_value());
  EXPECT_EQ((*bob)->username, "bob");

  auto nobody = find_credentials("127.0.0.1:5002", "", env);
  ASSERT_OK(nobody);
  EXPECT_FALSE(nobody->has_value());
}

TEST(RemoteAuth, AnExplicitAuthFileIsTheOnlyOneAndMustExist) {
  testing::TempDir dir;
  write_file(dir.path() / "xdg/containers/auth.json", auth_json("h:1", "alice:a"));
  auto env = env_of({{"XDG_RUNTIME_DIR", (dir.path() / "xdg").string()}});
  write_file(dir.path() / "given.json", R"({"auths": {}})");
  auto none = find_credentials("h:1", (dir.path() / "given.json").string(), env);
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_ERRC(find_credentials("h:1", (dir.path() / "missing.json").string(), env), Errc::invalid_argument);
}

TEST(RemoteAuth, RejectsBrokenAuthFiles) {
  EXPECT_ERRC(credentials_in("not json", "h"), Errc::invalid_argument);
  EXPECT_ERRC(credentials_in(R"({"auths": {"h": {"auth": "!!!"}}})", "h"), Errc::invalid_argument);
  EXPECT_ERRC(credentials_in(R"({"auths": {"h": {"auth": ")" + base64_encode("nocolon") + R"("}}})", "h"),
              Errc::invalid_argument);
  auto helper_only = credentials_in(R"({"auths": {"h": {}}, "credHelpers": {"h": "x"}})", "h");
  ASSERT_OK(helper_only);
  EXPECT_FALSE(helper_only->has_value());
}

TEST(RemoteAuth, ParsesRetryAfterSecondsAndDates) {
  auto now = std::chrono::system_clock::from_time_t(1700000000);  // Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(parse_retry_after("3", now), std::chrono::milliseconds(3000));
  EXPECT_EQ(parse_retry_after(" 0 ", now), std::chrono::milliseconds(0));
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now), std::chrono::milliseconds(10000));
  EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), std::chrono::milliseconds(0));
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1", now), std::nullopt);
  // Dates beyond the clock's range (an upstream's header): as good as never, or long past.
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), std::chrono::hours(24 * 365));
  EXPECT_EQ(parse_retry_after("Mon, 01 Jan 1600 00:00:00 GMT", now), std::chrono::milliseconds(0));
}

TEST(RemoteAuth, BacksOffExponentiallyUnlessTheServerSaysAndNeverPastTheCap) {
  EXPECT_EQ(retry_delay(1, std::nullopt, 500ms, 30s), 500ms);
  EXPECT_EQ(retry_delay(3, std::nullopt, 500ms, 30s), 2000ms);
  EXPECT_EQ(retry_delay(30, std::nullopt, 500ms, 30s), 30s);
  EXPECT_EQ(retry_delay(1, 7s, 500ms, 30s), 7s);
  EXPECT_EQ(retry_delay(1, std::chrono::hours(1), 500ms, 30s), 30s);
}

TEST(RemoteAuth, Base64RoundTrips) {
  for (std::string text : {"", "a", "ab", "abc", "user:pa ss:\xff"}) {
    if (text.empty()) {
      EXPECT_EQ(base64_decode(base64_encode(text)), std::nullopt);  // an empty "auth" is no credential
      continue;
    }
    EXPECT_EQ(base64_decode(base64_encode(text)), text);
  }
  EXPECT_EQ(base64_decode("YQ"), std::nullopt);
  EXPECT_EQ(base64_decode("Y=Q="), std::nullopt);
  EXPECT_EQ(base64_decode("YWJj", Base64Form::padded, 3), std::nullopt);  // over the limit
  // JWT segments: the URL alphabet, no padding.
  EXPECT_EQ(base64_decode("YQ", Base64Form::any), "a");
  EXPECT_EQ(base64_decode("-_8", Base64Form::any), "\xfb\xff");
  EXPECT_EQ(base64_decode("-_8=", Base64Form::padded), std::nullopt);
}

TEST(RemoteRef, ParsesDockerReferences) {
  auto ref = RemoteRef::parse("docker://127.0.0.1:5000/team/app:v1");
  ASSERT_OK(ref);
  EXPECT_EQ(ref->host, "127.0.0.1:5000");
  EXPECT_EQ(ref->repository, "team/app");
  EXPECT_EQ(ref->tag, "v1");
  EXPECT_EQ(ref->target(), "v1");
  EXPECT_EQ(ref->str(), "docker://127.0.0.1:5000/team/app:v1");

  std::string digest = "sha256:" + std::string(64, 'a');
  auto by_digest = RemoteRef::parse("docker://[::1]:443/a@" + digest);
  ASSERT_OK(by_digest);
  EXPECT_EQ(by_digest->host, "[::1]:443");
  EXPECT_EQ(by_digest->target(), digest);

  auto bare = RemoteRef::parse("docker://localhost/a/b");
  ASSERT_OK(bare);
  EXPECT_EQ(bare->target(), "latest");
  EXPECT_TRUE(is_docker_ref("docker://h/a"));
  EXPECT_FALSE(is_docker_ref("oci:dir"));
}

TEST(RemoteRef, RejectsMalformedReferences) {
  EXPECT_ERRC(RemoteRef::parse("docker://"), Errc::invalid_argument);
  EXPECT_ERRC(RemoteRef::parse("docker://host"), Errc::invalid_argument);
  EXPECT_ERRC(RemoteRef::parse("docker:///repo"), Errc::invalid_argument);
  EXPECT_ERRC(RemoteRef::parse("docker://ho st/repo"), Errc::invalid_argument);
  EXPECT_ERRC(RemoteRef::parse("docker://host:port/repo"), Errc::invalid_argument);
  EXPECT_ERRC(RemoteRef::parse("docker://[::1/repo"), Errc::invalid_argument);
  EXPECT_ERRC(RemoteRef::parse("docker://host/Upper"), Errc::name_invalid);
  EXPECT_ERRC(RemoteRef::parse("docker://host/a/../b"), Errc::name_invalid);
  EXPECT_ERRC(RemoteRef::parse("docker://host/a:bad tag"), Errc::tag_invalid);
}

}  // namespace
}  // namespace regd::remote
