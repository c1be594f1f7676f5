// The Auth object over real files: loading, the token endpoint's decisions, reload and the cache.
#include "auth.h"

#include <fstream>

#include <gtest/gtest.h>

#include "auth_test_keys.h"
#include "test_util.h"

namespace regd::daemon {
namespace {

// htpasswd -nbB -C 4: alice/secret, bob/"pass word".
constexpr const char* k_alice = "alice:$2y$04$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n";
constexpr const char* k_bob = "bob:$2y$04$1KMDCnN5xjhakFxX7e5eDugNM13bd49a6w5c0KeERLWMQBwtSd2cG\n";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write("htpasswd", std::string(k_alice) + k_bob);
    write("rules", "user:alice team/** pull,push\nauthenticated public pull\nanonymous anon pull\n");
    write("key.pem", regd::testing::make_ec_key().private_pem);
    config.htpasswd = path("htpasswd");
    config.auth_rules = path("rules");
    config.token_key = path("key.pem");
    config.token_service = "svc";
  }
  std::string path(const char* name) const { return (m_tmp.path() / name).string(); }
  void write(const char* name, const std::string& text) const { std::ofstream(path(name)) << text; }
  std::shared_ptr<Auth> create() const {
    auto auth = Auth::create(config);
    EXPECT_TRUE(auth) << auth.error().message;
    return auth ? *auth : nullptr;
  }
  static Request get(const std::string& path, const std::string& authorization = "") {
    Request r;
    r.method = Method::get;
    r.path = path;
    r.headers.push_back({"Host", "h:1"});
    if (!authorization.empty()) {
      r.headers.push_back({"Authorization", authorization});
    }
    return r;
  }

  regd::testing::TempDir m_tmp;
  AuthConfig config;
};

// "Basic base64(user:password)"
std::string basic(const std::string& credentials) {
  std::string out(4 * ((credentials.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(credentials.data()), static_cast<int>(credentials.size()));
  out.resize(static_cast<size_t>(n));
  return "Basic " + out;
}

TEST_F(AuthTest, StartUpErrorsNameTheFileAndLine) {
  write("rules", "user:alice team/** pull\nnonsense\n");
  auto auth = Auth::create(config);
  ASSERT_FALSE(auth);
  EXPECT_EQ(auth.error().message.find(path("rules") + ": line 2:"), 0u) << auth.error().message;
  config.htpasswd = path("missing");
  auth = Auth::create(config);
  ASSERT_FALSE(auth);
  EXPECT_EQ(auth.error().code, Errc::io_error);
  EXPECT_NE(auth.error().message.find(path("missing")), std::string::npos);
}

TEST_F(AuthTest, LoginChecksPasswordsWithoutTellingWhichUsersExist) {
  auto auth = create();
  ASSERT_TRUE(auth);
  auto alice = auth->login("alice", "secret");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->caller.user, "alice");
  EXPECT_FALSE(auth->login("alice", "wrong"));
  EXPECT_FALSE(auth->login("mallory", "secret"));
}

TEST_F(AuthTest, IssuedTokensCarryTheRequestedScopesTheRulesAllow) {
  auto auth = create();
  ASSERT_TRUE(auth);
  auto alice = *auth->login("alice", "secret");
  auto issued = auth->issue(
      alice, parse_scopes({"repository:team/a:pull,push,delete", "repository:other:pull", "repository:public:pull,push",
                           "registry:catalog:*", "repository:Bad Name:pull"}));
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(issued->expires_in, std::chrono::minutes(5));
  auto key = parse_signing_key(std::string(std::istreambuf_iterator<char>(std::ifstream(path("key.pem")).rdbuf()), {}));
  std::vector<TokenTrust> trust = {{"regd", {key->public_key}}};
  auto claims = verify_token(issued->token, trust, "svc", std::chrono::system_clock::now());
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->subject, "alice");
  std::vector<Scope> expected = {{"repository", "team/a", k_pull | k_push},
                                 {"repository", "public", k_pull},
                                 {"registry", "catalog", k_all_actions}};
  EXPECT_EQ(claims->access, expected);
}

TEST_F(AuthTest, AnonymousTokensCarryOnlyWhatAnonymousMayDo) {
  auto auth = create();
  ASSERT_TRUE(auth);
  auto issued = auth->issue(Identity{}, parse_scopes({"repository:anon:pull,push", "repository:public:pull"}));
  ASSERT_TRUE(issued);
  auto request = get("/v2/anon/manifests/latest", "Bearer " + issued->token);
  EXPECT_FALSE(auth->check(request, match_route(request.path))) << "anonymous pull allowed";
  EXPECT_EQ(request.user, "");
  auto denied = get("/v2/public/manifests/latest", "Bearer " + issued->token);
  auto refused = auth->check(denied, match_route(denied.path));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401u);
}

TEST_F(AuthTest, CheckAnswersWithChallengesAndSetsTheUser) {
  auto auth = create();
  ASSERT_TRUE(auth);
  auto anonymous = get("/v2/team/a/manifests/v1");
  auto refused = auth->check(anonymous, match_route(anonymous.path));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401u);
  EXPECT_EQ(*refused->find("WWW-Authenticate"),
            "Bearer realm=\"http://h:1/v2/token\",service=\"svc\",scope=\"repository:team/a:pull\"");
  auto alice = get("/v2/team/a/manifests/v1", basic("alice:secret"));
  EXPECT_FALSE(auth->check(alice, match_route(alice.path)));
  EXPECT_EQ(alice.user, "alice");
  ASSERT_TRUE(alice.permissions);
  EXPECT_TRUE(alice.may_pull("team/b"));
  EXPECT_FALSE(alice.may_pull("anon"));
  auto bob = get("/v2/team/a/manifests/v1", basic("bob:pass word"));
  auto denied = auth->check(bob, match_route(bob.path));
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403u);
  EXPECT_NE(denied->body.find("\"DENIED\""), std::string::npos);
  auto wrong = get("/v2/team/a/manifests/v1", basic("alice:nope"));
  auto bad = auth->check(wrong, match_route(wrong.path));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401u);
  EXPECT_NE(bad->body.find("\"UNAUTHORIZED\""), std::string::npos);
}

TEST_F(AuthTest, ReloadTakesGoodFilesKeepsOldOnesForBadAndDropsTheCache) {
  auto auth = create();
  ASSERT_TRUE(auth);
  auto header = basic("alice:secret");
  auto before = get("/v2/team/a/manifests/v1", header);
  ASSERT_FALSE(auth->check(before, match_route(before.path)));
  write("htpasswd", k_bob);  // alice removed: still served from the cache until a reload
  auto cached = get("/v2/team/a/manifests/v1", header);
  EXPECT_FALSE(auth->check(cached, match_route(cached.path)));
  write("rules", "this does not parse\n");
  auth->reload();
  auto after = get("/v2/team/a/manifests/v1", header);
  auto refused = auth->check(after, match_route(after.path));
  ASSERT_TRUE(refused) << "the new htpasswd was taken and the cache dropped";
  EXPECT_EQ(refused->status, 401u);
  auto bob = get("/v2/public/manifests/v1", basic("bob:pass word"));
  EXPECT_FALSE(auth->check(bob, match_route(bob.path))) << "the old rules were kept";
}

TEST_F(AuthTest, TheTokenEndpointTakesBasicCredentialsOrNone) {
  auto auth = create();
  ASSERT_TRUE(auth);
  EXPECT_TRUE(auth->issues_tokens());
  auto anonymous = get("/v2/token");
  EXPECT_FALSE(auth->check(anonymous, match_route(anonymous.path)));
  auto wrong = get("/v2/token", basic("alice:nope"));
  auto refused = auth->check(wrong, match_route(wrong.path));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401u);
  EXPECT_EQ(*refused->find("WWW-Authenticate"), "Basic realm=\"svc\"");
  auto token = auth->issue(Identity{}, {});
  auto bearer = get("/v2/token", "Bearer " + token->token);
  auto refused_bearer = auth->check(bearer, match_route(bearer.path));
  ASSERT_TRUE(refused_bearer);
  EXPECT_EQ(refused_bearer->status, 401u);
}

TEST_F(AuthTest, TlsClientCertificatesAuthenticateWithoutAHeader) {
  auto auth = create();
  ASSERT_TRUE(auth);
  auto request = get("/v2/team/a/manifests/v1");
  request.tls_client_cn = "alice";
  EXPECT_FALSE(auth->check(request, match_route(request.path)));
  EXPECT_EQ(request.user, "alice");
  auto both = get("/v2/team/a/manifests/v1", basic("bob:pass word"));
  both.tls_client_cn = "alice";
  auto refused = auth->check(both, match_route(both.path));
  ASSERT_TRUE(refused) << "the Authorization header wins over the certificate";
  EXPECT_EQ(refused->status, 403u);
}

}  // namespace
}  // namespace regd::daemon
