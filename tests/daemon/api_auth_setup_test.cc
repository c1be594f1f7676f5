// Auth set-ups other than the full one: start-up errors, Basic only, external tokens only.
#include "auth_fixture.h"

namespace regd::testing {
namespace {

// Runs regd to its exit (it must not start); returns the exit status and stderr.
std::pair<int, std::string> run_regd(const TempDir& tmp, const std::vector<std::string>& flags) {
  std::string command = std::string(REGD_BINARY) + " --root " + (tmp.path() / "root").string() +
                        " --listen 127.0.0.1:" + std::to_string(free_port());
  for (const auto& f : flags) {
    command += " '" + f + "'";
  }
  auto err = tmp.path() / "stderr";
  int status = std::system((command + " 2>" + err.string() + " >/dev/null").c_str());
  std::ifstream in(err);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

TEST(AuthStartUp, ABadFileStopsRegdNamingFileAndLine) {
  TempDir tmp;
  auto htpasswd = (tmp.path() / "htpasswd").string();
  std::ofstream(htpasswd) << "alice:$apr1$abc$0123456789012345678901\n";
  auto [status, err] = run_regd(tmp, {"--htpasswd", htpasswd});
  EXPECT_EQ(status, 1) << err;
  EXPECT_NE(err.find(htpasswd + ": line 1: the hash of user alice is not bcrypt"), std::string::npos) << err;
  auto rules = (tmp.path() / "rules").string();
  std::ofstream(rules) << "# ok\nuser:a x pull\nuser:a x jump\n";
  std::tie(status, err) = run_regd(tmp, {"--auth-rules", rules});
  EXPECT_EQ(status, 1) << err;
  EXPECT_NE(err.find(rules + ": line 3: unknown action 'jump'"), std::string::npos) << err;
  auto key = (tmp.path() / "key.pem").string();
  std::ofstream(key) << make_ec_key("P-384").private_pem;
  std::tie(status, err) = run_regd(tmp, {"--token-key", key});
  EXPECT_EQ(status, 1) << err;
  EXPECT_NE(err.find(key + ": line 1: not an EC P-256"), std::string::npos) << err;
  std::tie(status, err) = run_regd(tmp, {"--htpasswd", (tmp.path() / "missing").string()});
  EXPECT_EQ(status, 1) << err;
}

TEST(AuthStartUp, InconsistentOptionsAreUsageErrors) {
  TempDir tmp;
  auto trust = (tmp.path() / "trust.pem").string();
  std::ofstream(trust) << make_ec_key().public_pem;
  auto [status, err] = run_regd(tmp, {"--token-trust", trust, "--token-realm", "https://auth.test/token"});
  EXPECT_EQ(status, 2) << err;
  EXPECT_NE(err.find("--token-trust-issuer"), std::string::npos) << err;
  std::tie(status, err) = run_regd(tmp, {"--token-trust", trust, "--token-trust-issuer", "x"});
  EXPECT_EQ(status, 2) << err;
  EXPECT_NE(err.find("--token-realm"), std::string::npos) << err;
  std::tie(status, err) = run_regd(tmp, {"--token-ttl", "0"});
  EXPECT_EQ(status, 2) << err;
}

TEST(AuthBasicOnly, ChallengesWithBasicAndLetsEveryUserDoEverything) {
  TempDir tmp;
  auto htpasswd = (tmp.path() / "htpasswd").string();
  ASSERT_EQ(std::system(("htpasswd -B -b -c " + htpasswd + " alice alice-pw 2>/dev/null").c_str()), 0);
  RegdProcess regd(tmp.path() / "root", {"--htpasswd", htpasswd});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto base = c.Get("/v2/");
  ASSERT_TRUE(base);
  EXPECT_EQ(base->status, 401);
  EXPECT_EQ(base->get_header_value("WWW-Authenticate"), "Basic realm=\"regd\"");
  EXPECT_EQ(base->get_header_value("Docker-Distribution-API-Version"), "registry/2.0");
  auto anonymous = c.Get("/v2/any/thing/tags/list");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Basic realm=\"regd\"");
  c.set_basic_auth("alice", "alice-pw");
  auto manifest = push_image(c, "any/thing", "v1");
  auto r = c.Get("/v2/any/thing/manifests/v1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, manifest);
  auto token = c.Get("/v2/token");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->status, 404) << "no --token-key, no token endpoint";
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  httplib::Client anonymous_client = regd.client();
  EXPECT_EQ(anonymous_client.Get("/healthz")->status, 200) << "probes stay open";
  EXPECT_EQ(anonymous_client.Get("/readyz")->status, 200);
  EXPECT_EQ(anonymous_client.Get("/metrics")->status, 401);
  // Access lines are buffered (written every 200 ms): wait for alice's (bounded).
  for (int i = 0; i < 500 && regd.log().find("\"user\":\"alice\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(regd.log().find("\"user\":\"alice\""), std::string::npos) << "the access log names the user";
}

TEST(AuthExternalOnly, VerifiesExternalTokensAndChallengesWithTheConfiguredRealm) {
  TempDir tmp;
  auto issuer = make_ec_key();
  auto trust = (tmp.path() / "trust.pem").string();
  std::ofstream(trust) << issuer.public_pem;
  RegdProcess regd(tmp.path() / "root", {"--token-trust", trust, "--token-trust-issuer", "gitlab", "--token-realm",
                                         "https://gitlab.test/jwt/auth", "--token-service", "container_registry"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto r = c.Get("/v2/group/app/tags/list");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"),
            "Bearer realm=\"https://gitlab.test/jwt/auth\",service=\"container_registry\","
            "scope=\"repository:group/app:pull\"");
  auto claims = token_claims("gitlab", "container_registry", "ci", {repo_access("group/app", {"pull", "push"})});
  auto token = libjwt_token(claims, issuer.private_pem, "ES256");
  c.set_bearer_token_auth(token);
  push_image(c, "group/app", "v1");
  auto tags = c.Get("/v2/group/app/tags/list");
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->status, 200);
  auto other = c.Get("/v2/group/other/tags/list");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 401) << "no rules file: the token's claims decide; it lacks this scope";
  EXPECT_EQ(c.Get("/v2/token")->status, 404);
}

}  // namespace
}  // namespace regd::testing
