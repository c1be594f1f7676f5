// Auth behaviour beyond the matrix: catalog filtering and paging, mount rules, anonymous pull,
// the token endpoint, reload on SIGHUP, start-up errors, Basic-only and external-only set-ups.
#include "auth_fixture.h"

namespace regd::testing {
namespace {

std::vector<std::string> catalog(httplib::Client& c, const std::string& query, const std::string& auth,
                                 std::string* link = nullptr) {
  auto r = c.Get(("/v2/_catalog" + query).c_str(), {{"Authorization", auth}});
  EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
  if (!r || r->status != 200) {
    return {};
  }
  if (link != nullptr) {
    *link = r->get_header_value("Link");
  }
  return nlohmann::json::parse(r->body)["repositories"];
}

class AuthApi : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env.ready()) << "regd did not start"; }
  AuthEnvironment env{1};
};

TEST_F(AuthApi, TheCatalogListsOnlyWhatTheCallerMayPullAndPagesOverIt) {
  auto c = env.client(0);
  for (auto repo : {"a/hidden", "public/one", "team/x", "public/two", "team/y", "z/hidden"}) {
    seed_image(env.regd(0), repo, "v1", 1);
  }
  using V = std::vector<std::string>;
  auto carol = basic_header("carol", "carol-pw");
  EXPECT_EQ(catalog(c, "", carol), (V{"public/one", "public/two"}));
  std::string link;
  EXPECT_EQ(catalog(c, "?n=1", carol, &link), (V{"public/one"}));
  EXPECT_EQ(link, "</v2/_catalog?n=1&last=public/one>; rel=\"next\"");
  EXPECT_EQ(catalog(c, "?n=1&last=public%2Fone", carol, &link), (V{"public/two"}));
  EXPECT_EQ(link, "") << "no other repository carol may see";
  EXPECT_EQ(catalog(c, "?n=2", carol, &link), (V{"public/one", "public/two"}));
  EXPECT_EQ(link, "");
  EXPECT_EQ(catalog(c, "?n=0", carol, &link), V{});
  EXPECT_EQ(catalog(c, "?n=1&last=team", basic_header("alice", "alice-pw"), &link), (V{"team/x"}));
  EXPECT_EQ(link, "</v2/_catalog?n=1&last=team/x>; rel=\"next\"");
  EXPECT_EQ(catalog(c, "", basic_header("admin", "admin-pw")).size(), 6u);
  // Anonymous may pull public/**: it may list the catalog, and sees just that.
  auto anonymous = c.Get("/v2/_catalog");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 200);
  EXPECT_EQ(nlohmann::json::parse(anonymous->body)["repositories"], (V{"public/one", "public/two"}));
}

TEST_F(AuthApi, TheCatalogWithATokenNeedsTheCatalogScope) {
  auto c = env.client(0);
  seed_image(env.regd(0), "team/x", "v1", 1);
  seed_image(env.regd(0), "other/y", "v1", 2);
  auto without = env.own_token(0, "alice", {"repository:team/x:pull"});
  auto r = c.Get("/v2/_catalog", {{"Authorization", "Bearer " + without}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401) << "the rules allow it: a client fetches a token with the catalog scope";
  EXPECT_NE(r->get_header_value("WWW-Authenticate").find("scope=\"registry:catalog:*\",error=\"insufficient_scope\""),
            std::string::npos);
  auto with = env.own_token(0, "alice", {"registry:catalog:*"});
  EXPECT_EQ(catalog(c, "", "Bearer " + with), std::vector<std::string>{"team/x"});
}

TEST_F(AuthApi, ReferrersListOnlyTheCallersRepository) {
  auto c = env.client(0);
  auto subject = seed_image(env.regd(0), "public/app", "v1", 1);
  auto subject_descriptor = descriptor("application/vnd.oci.image.manifest.v1+json", subject);
  auto signature = seed_image(env.regd(0), "public/app", "sig", 2, {{"subject", subject_descriptor}});
  seed_image(env.regd(0), "team/app", "v1", 1);
  seed_image(env.regd(0), "team/app", "secret-sig", 3, {{"subject", subject_descriptor}});
  auto path = "/v2/public/app/referrers/" + sha256_of(subject);
  auto r = c.Get(path.c_str(), {{"Authorization", basic_header("carol", "carol-pw")}});
  ASSERT_TRUE(r && r->status == 200);
  auto manifests = nlohmann::json::parse(r->body)["manifests"];
  ASSERT_EQ(manifests.size(), 1u);
  EXPECT_EQ(manifests[0]["digest"], sha256_of(signature));
  auto team = c.Get(("/v2/team/app/referrers/" + sha256_of(subject)).c_str(),
                    {{"Authorization", basic_header("carol", "carol-pw")}});
  ASSERT_TRUE(team);
  EXPECT_EQ(team->status, 403);
}

TEST_F(AuthApi, MountsOnlyFromARepositoryTheCallerMayPull) {
  auto c = env.client(0);
  auto manifest = seed_image(env.regd(0), "team/app", "v1", 1);
  std::string layer = nlohmann::json::parse(manifest)["layers"][0]["digest"];
  auto eve = basic_header("eve", "eve-pw");
  auto mount = [&](const std::string& query) {
    auto r = c.Post(("/v2/scratch/x/blobs/uploads/?mount=" + layer + query).c_str(), {{"Authorization", eve}}, "",
                    "text/plain");
    EXPECT_TRUE(r);
    return r ? r->status : 0;
  };
  EXPECT_EQ(mount("&from=team/app"), 202) << "eve may not pull team/app: a normal upload starts";
  EXPECT_EQ(mount(""), 202) << "without from, nothing is linked";
  auto blob = c.Get(("/v2/scratch/x/blobs/" + layer).c_str(), {{"Authorization", eve}});
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->status, 404);
  EXPECT_EQ(error_code(blob->body), "BLOB_UNKNOWN");
  // Knowing the digest is not enough for a single POST either: the content must come along.
  auto empty = c.Post(("/v2/scratch/x/blobs/uploads/?digest=" + layer).c_str(), {{"Authorization", eve}}, "",
                      "application/octet-stream");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 400);
  EXPECT_EQ(error_code(empty->body), "DIGEST_INVALID");
  blob = c.Get(("/v2/scratch/x/blobs/" + layer).c_str(), {{"Authorization", eve}});
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->status, 404);
  // From a repository eve may pull, the mount links.
  auto own = push_blob_as(c, "scratch/src", "eve's own blob", eve);
  auto ok = c.Post(("/v2/scratch/y/blobs/uploads/?mount=" + own + "&from=scratch/src").c_str(),
                   {{"Authorization", eve}}, "", "text/plain");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
  auto alice = basic_header("alice", "alice-pw");
  auto alice_mount =
      c.Post(("/v2/team/b/blobs/uploads/?mount=" + layer).c_str(), {{"Authorization", alice}}, "", "text/plain");
  ASSERT_TRUE(alice_mount);
  EXPECT_EQ(alice_mount->status, 202) << "with auth on, a mount without from never links";
}

TEST_F(AuthApi, AnonymousPullsWhatTheRulesAllowAndNothingElse) {
  auto c = env.client(0);
  auto manifest = seed_image(env.regd(0), "public/app", "v1", 1);
  seed_image(env.regd(0), "team/app", "v1", 1);
  auto r = c.Get("/v2/public/app/manifests/v1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, manifest);
  auto push = c.Post("/v2/public/app/blobs/uploads/", "", "text/plain");
  ASSERT_TRUE(push);
  EXPECT_EQ(push->status, 401);
  auto team = c.Get("/v2/team/app/manifests/v1");
  ASSERT_TRUE(team);
  EXPECT_EQ(team->status, 401);
  // The same with an anonymous token, as podman and skopeo get one.
  auto token =
      c.Get((std::string("/v2/token?service=") + k_service + "&scope=repository:public/app:pull,push").c_str());
  ASSERT_TRUE(token && token->status == 200);
  auto bearer = "Bearer " + nlohmann::json::parse(token->body)["token"].get<std::string>();
  auto with = c.Get("/v2/public/app/manifests/v1", {{"Authorization", bearer}});
  ASSERT_TRUE(with);
  EXPECT_EQ(with->status, 200);
  auto no_push = c.Post("/v2/public/app/blobs/uploads/", {{"Authorization", bearer}}, "", "text/plain");
  ASSERT_TRUE(no_push);
  EXPECT_EQ(no_push->status, 401);
}

TEST_F(AuthApi, TheTokenEndpointAnswersGetAndPasswordPosts) {
  auto c = env.client(0);
  auto get =
      c.Get((std::string("/v2/token?service=") + k_service + "&scope=repository:team/a:pull&account=alice").c_str(),
            {{"Authorization", basic_header("alice", "alice-pw")}});
  ASSERT_TRUE(get);
  ASSERT_EQ(get->status, 200) << get->body;
  auto body = nlohmann::json::parse(get->body);
  EXPECT_EQ(body["expires_in"], 300);
  EXPECT_TRUE(body["issued_at"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(get->get_header_value("Cache-Control"), "no-store");
  auto form = std::string("grant_type=password&username=alice&password=alice-pw&service=") + k_service +
              "&scope=repository%3Ateam%2Fa%3Apull+repository%3Ateam%2Fb%3Apush&client_id=test";
  auto post = c.Post("/v2/token", form, "application/x-www-form-urlencoded");
  ASSERT_TRUE(post);
  ASSERT_EQ(post->status, 200) << post->body;
  auto token = nlohmann::json::parse(post->body)["access_token"].get<std::string>();
  auto r = c.Head("/v2/team/b/blobs/uploads/x", {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << "push on team/b granted: past auth, the session is unknown";
  auto wrong =
      c.Post("/v2/token", "grant_type=password&username=alice&password=nope", "application/x-www-form-urlencoded");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(nlohmann::json::parse(wrong->body)["error"], "invalid_grant");
  auto refresh = c.Post("/v2/token", "grant_type=refresh_token&refresh_token=x", "application/x-www-form-urlencoded");
  ASSERT_TRUE(refresh);
  EXPECT_EQ(refresh->status, 400);
  EXPECT_EQ(nlohmann::json::parse(refresh->body)["error"], "unsupported_grant_type");
  auto other = c.Get("/v2/token?service=elsewhere");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 400);
  auto bad = c.Get("/v2/token", {{"Authorization", basic_header("alice", "nope")}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(bad->get_header_value("WWW-Authenticate"), std::string("Basic realm=\"") + k_service + "\"");
  auto unknown = c.Get("/v2/token", {{"Authorization", basic_header("nobody", "nope")}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, bad->status);
  EXPECT_EQ(unknown->body.substr(0, 60), bad->body.substr(0, 60)) << "an unknown user looks like a wrong password";
}

TEST_F(AuthApi, ReloadsFilesOnSighupAndKeepsTheOldOnesWhenBad) {
  auto c = env.client(0);  // one keep-alive connection across the reloads
  seed_image(env.regd(0), "team/app", "v1", 1);
  auto dave = basic_header("dave", "dave-pw");
  auto status = [&](const std::string& auth) {
    auto r = c.Get("/v2/team/app/manifests/v1", {{"Authorization", auth}});
    return r ? r->status : 0;
  };
  EXPECT_EQ(status(dave), 403);
  env.write("rules", std::string(k_rules) + "user:dave team/** pull\n");
  ::kill(env.regd(0).pid(), SIGHUP);
  bool reloaded = false;
  for (int i = 0; i < 250 && !reloaded; ++i) {
    reloaded = status(dave) == 200;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(reloaded) << env.regd(0).log();
  env.write("rules", "user:dave team/** fly\n");
  env.make_htpasswd({{"alice", "alice-pw"}});
  ::kill(env.regd(0).pid(), SIGHUP);
  bool logged = false;
  for (int i = 0; i < 250 && !logged; ++i) {
    logged = env.regd(0).log().find("line 1: unknown action 'fly'") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(logged) << env.regd(0).log();
  for (int i = 0; i < 250 && status(dave) != 401; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status(dave), 401) << "the new htpasswd (dave gone) was taken and the cache dropped";
  EXPECT_EQ(status(basic_header("alice", "alice-pw")), 200) << "the old rules were kept";
  EXPECT_EQ(env.regd(0).log().find(env.path("htpasswd") + ": "), std::string::npos);
}

}  // namespace
}  // namespace regd::testing
