#include "auth_policy.h"

#include <gtest/gtest.h>

namespace regd::daemon {
namespace {

Need need(const char* path, Method method) {
  return need_of(match_route(path), method);
}

TEST(NeedOf, PullForReads) {
  for (const char* path :
       {"/v2/a/b/blobs/sha256:00", "/v2/a/b/manifests/latest", "/v2/a/b/tags/list", "/v2/a/b/referrers/sha256:00"}) {
    for (Method m : {Method::get, Method::head}) {
      auto n = need(path, m);
      EXPECT_EQ(n.kind, Need::Kind::repository) << path;
      EXPECT_EQ(n.repository, "a/b");
      EXPECT_EQ(n.actions, k_pull) << path;
      EXPECT_EQ(n.ask, k_pull);
    }
  }
}

TEST(NeedOf, PushForEveryUploadRequestAndManifestPut) {
  for (auto [path, method] : {std::pair{"/v2/r/blobs/uploads/", Method::post},
                              {"/v2/r/blobs/uploads/id", Method::get},
                              {"/v2/r/blobs/uploads/id", Method::patch},
                              {"/v2/r/blobs/uploads/id", Method::put},
                              {"/v2/r/blobs/uploads/id", Method::del},
                              {"/v2/r/manifests/v1", Method::put}}) {
    auto n = need(path, method);
    EXPECT_EQ(n.kind, Need::Kind::repository) << path;
    EXPECT_EQ(n.actions, k_push) << path;
    EXPECT_EQ(n.ask, k_pull | k_push) << path;
  }
}

TEST(NeedOf, DeleteForDeletes) {
  EXPECT_EQ(need("/v2/r/manifests/v1", Method::del).actions, k_delete);
  EXPECT_EQ(need("/v2/r/manifests/sha256:00", Method::del).actions, k_delete);
  EXPECT_EQ(need("/v2/r/blobs/sha256:00", Method::del).actions, k_delete);
}

TEST(NeedOf, FixedEndpoints) {
  EXPECT_EQ(need("/v2/", Method::get).kind, Need::Kind::credentials);
  EXPECT_EQ(need("/metrics", Method::get).kind, Need::Kind::authenticated);
  EXPECT_EQ(need("/v2/_catalog", Method::get).kind, Need::Kind::catalog);
  EXPECT_EQ(need("/healthz", Method::get).kind, Need::Kind::open);
  EXPECT_EQ(need("/readyz", Method::get).kind, Need::Kind::open);
  EXPECT_EQ(need("/v2/token", Method::get).kind, Need::Kind::open);
  EXPECT_EQ(need("/nowhere", Method::get).kind, Need::Kind::open);
}

class DecideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rules = *parse_access_rules(
        "user:alice  team/**  pull,push\n"
        "anonymous   public   pull\n");
  }
  static Identity basic(const char* user) {
    Identity id;
    id.caller = {user, true};
    id.credentials = true;
    return id;
  }
  static Identity token(const char* user, std::vector<Scope> access) {
    Identity id;
    id.caller = {user, *user != '\0'};
    id.credentials = true;
    id.token = true;
    id.access = std::move(access);
    return id;
  }
  static Need repo(const char* name, Actions actions) { return {Need::Kind::repository, name, actions, actions}; }
  AccessRules rules;
  Identity nobody;
};

TEST_F(DecideTest, RulesDecideForBasicUsersAndAnonymous) {
  EXPECT_EQ(decide(rules, basic("alice"), repo("team/x", k_push)), Verdict::allow);
  EXPECT_EQ(decide(rules, basic("alice"), repo("team/x", k_delete)), Verdict::denied);
  EXPECT_EQ(decide(rules, basic("bob"), repo("team/x", k_pull)), Verdict::denied);
  EXPECT_EQ(decide(rules, nobody, repo("public", k_pull)), Verdict::allow);
  EXPECT_EQ(decide(rules, nobody, repo("public", k_push)), Verdict::unauthenticated);
  EXPECT_EQ(decide(rules, nobody, repo("team/x", k_pull)), Verdict::unauthenticated);
}

TEST_F(DecideTest, TokensAreIntersectedWithTheRules) {
  auto t = token("alice", {{"repository", "team/x", k_all_actions}, {"repository", "other", k_all_actions}});
  EXPECT_EQ(decide(rules, t, repo("team/x", k_push)), Verdict::allow);
  EXPECT_EQ(decide(rules, t, repo("team/x", k_delete)), Verdict::denied) << "the token says delete, the rules do not";
  EXPECT_EQ(decide(rules, t, repo("other", k_pull)), Verdict::denied);
  EXPECT_EQ(decide(rules, t, repo("team/y", k_pull)), Verdict::insufficient_scope)
      << "the rules allow it: the client should get a token for it";
  auto anon = token("", {{"repository", "public", k_pull}});
  EXPECT_EQ(decide(rules, anon, repo("public", k_pull)), Verdict::allow);
  EXPECT_EQ(decide(rules, anon, repo("team/x", k_pull)), Verdict::unauthenticated);
}

TEST_F(DecideTest, TheBaseEndpointWantsCredentialsAndMetricsAUser) {
  Need base{Need::Kind::credentials, "", 0, 0};
  Need metrics{Need::Kind::authenticated, "", 0, 0};
  EXPECT_EQ(decide(rules, nobody, base), Verdict::unauthenticated);
  EXPECT_EQ(decide(rules, token("", {}), base), Verdict::allow);
  EXPECT_EQ(decide(rules, basic("bob"), base), Verdict::allow);
  EXPECT_EQ(decide(rules, token("", {}), metrics), Verdict::unauthenticated);
  EXPECT_EQ(decide(rules, basic("bob"), metrics), Verdict::allow);
}

TEST_F(DecideTest, TheCatalogWantsAPullRightAndWithTokensTheCatalogScope) {
  Need catalog{Need::Kind::catalog, "", k_pull, k_pull};
  EXPECT_EQ(decide(rules, basic("alice"), catalog), Verdict::allow);
  EXPECT_EQ(decide(rules, basic("bob"), catalog), Verdict::denied);
  EXPECT_EQ(decide(rules, nobody, catalog), Verdict::allow) << "anonymous may pull public";
  EXPECT_EQ(decide(rules, token("alice", {}), catalog), Verdict::insufficient_scope);
  EXPECT_EQ(decide(rules, token("alice", {{"registry", "catalog", k_all_actions}}), catalog), Verdict::allow);
}

TEST(Challenge, BasicAndBearerAsClientsParseThem) {
  EXPECT_EQ(basic_challenge("regd"), "Basic realm=\"regd\"");
  EXPECT_EQ(bearer_challenge("https://r.example/v2/token", "regd", "repository:a:pull,push", ""),
            "Bearer realm=\"https://r.example/v2/token\",service=\"regd\",scope=\"repository:a:pull,push\"");
  EXPECT_EQ(bearer_challenge("http://h/v2/token", "s", "", "invalid_token"),
            "Bearer realm=\"http://h/v2/token\",service=\"s\",error=\"invalid_token\"");
  EXPECT_EQ(challenge_scope({Need::Kind::repository, "a/b", k_push, k_pull | k_push}), "repository:a/b:pull,push");
  EXPECT_EQ(challenge_scope({Need::Kind::catalog, "", k_pull, k_pull}), "registry:catalog:*");
  EXPECT_EQ(challenge_scope({Need::Kind::credentials, "", 0, 0}), "");
}

TEST(DefaultRealm, FollowsHostAndScheme) {
  Request r;
  r.headers.push_back({"Host", "reg.local:5000"});
  EXPECT_EQ(default_realm(r), "http://reg.local:5000/v2/token");
  r.secure = true;
  EXPECT_EQ(default_realm(r), "https://reg.local:5000/v2/token");
  r.secure = false;
  r.headers.push_back({"X-Forwarded-Proto", "https"});
  EXPECT_EQ(default_realm(r), "https://reg.local:5000/v2/token");
  Request evil;
  evil.headers.push_back({"Host", "a\",error=\"x"});
  EXPECT_EQ(default_realm(evil), "http://localhost/v2/token");
}

}  // namespace
}  // namespace regd::daemon
