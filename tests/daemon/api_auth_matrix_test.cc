// The auth matrix: every endpoint refuses the unauthenticated (401 with the challenge naming the
// scope it needs) and the unauthorized (403 DENIED), and admits the authorized, for Basic
// credentials, tokens regd issued and tokens an external issuer signed, across three instances
// over one root: tokens come from instance A and are used on B and C.
#include <atomic>

#include "auth_fixture.h"

namespace regd::testing {
namespace {

class AuthMatrix;

struct Endpoint {
  const char* name;
  std::string scope;  // the challenge's scope; "" for /v2/ and /metrics
  bool any_user;      // every authenticated user may (no 403 case)
  int ok;             // the authorized caller's status
  std::function<Call(AuthMatrix&)> prepare;
};

// gtest prints a parameter it cannot print as raw bytes; the endpoint's name says it all.
void PrintTo(const Endpoint& endpoint, std::ostream* out) {
  *out << endpoint.name;
}

// The test rules without anonymous access: an anonymous caller that may pull somewhere may list
// the catalog (AuthApi tests that), so here every endpoint wants credentials.
std::string matrix_rules() {
  std::string rules = k_rules;
  auto line = rules.find("anonymous");
  return rules.erase(line, rules.find('\n', line) + 1 - line);
}

class AuthMatrix : public ::testing::TestWithParam<Endpoint> {
 public:
  void SetUp() override {
    ASSERT_TRUE(env.ready()) << "regd did not start";
    manifest = seed_image(env.regd(0), "team/app", "v1", 1);
    manifest_digest = sha256_of(manifest);
    auto parsed = nlohmann::json::parse(manifest);
    layer = parsed["layers"][0]["digest"];
  }

  // Admin-made things a mutating request consumes, unique per call.
  std::string fresh_blob() {
    auto c = admin(0);
    return push_blob(c, "team/app", "fresh blob " + std::to_string(++counter));
  }
  std::string fresh_upload() {
    auto c = admin(0);
    auto r = c.Post("/v2/team/app/blobs/uploads/", "", "application/octet-stream");
    EXPECT_TRUE(r && r->status == 202);
    return r ? r->get_header_value("Location") : "";
  }
  std::string fresh_tag() {
    auto tag = "t" + std::to_string(++counter);
    auto c = admin(0);
    auto r = c.Put(("/v2/team/app/manifests/" + tag).c_str(), manifest, "application/vnd.oci.image.manifest.v1+json");
    EXPECT_TRUE(r && r->status == 201);
    return tag;
  }
  std::string fresh_manifest_digest() { return sha256_of(seed_image(env.regd(0), "team/app", "x", 100 + ++counter)); }
  httplib::Client admin(size_t i) {
    auto c = env.client(i);
    c.set_default_headers({{"Authorization", basic_header("admin", "admin-pw")}});
    return c;
  }

  std::string expected_challenge(size_t instance, const std::string& scope, const std::string& error = "") {
    std::string out = "Bearer realm=\"http://127.0.0.1:" + std::to_string(env.regd(instance).port()) +
                      "/v2/token\",service=\"" + k_service + "\"";
    if (!scope.empty()) {
      out += ",scope=\"" + scope + "\"";
    }
    if (!error.empty()) {
      out += ",error=\"" + error + "\"";
    }
    return out;
  }

  // The scopes a client asks for: the challenge's, plus the mount source's.
  std::vector<std::string> token_scopes(const Call& call) {
    std::vector<std::string> scopes;
    if (!GetParam().scope.empty()) {
      scopes.push_back(GetParam().scope);
    }
    if (call.path.find("from=team/app") != std::string::npos) {
      scopes.push_back("repository:team/app:pull");
    }
    return scopes;
  }

  // What an external issuer grants: everything the scopes name.
  nlohmann::json external_access(const Call& call) {
    auto access = nlohmann::json::array();
    for (const auto& scope : token_scopes(call)) {
      auto first = scope.find(':');
      auto last = scope.rfind(':');
      access.push_back({{"type", scope.substr(0, first)},
                        {"name", scope.substr(first + 1, last - first - 1)},
                        {"actions", {"pull", "push", "delete", "*"}}});
    }
    return access;
  }

  void expect_unauthorized(size_t instance, const Call& call, const std::string& authorization,
                           const std::string& error) {
    auto c = env.client(instance);
    auto r = send(c, call, authorization);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), expected_challenge(instance, GetParam().scope, error));
    if (call.method != "HEAD") {
      EXPECT_EQ(error_code(r->body), "UNAUTHORIZED") << r->body;
    }
  }
  void expect_denied(size_t instance, const Call& call, const std::string& authorization) {
    auto c = env.client(instance);
    auto r = send(c, call, authorization);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << r->body;
    if (call.method != "HEAD") {
      EXPECT_EQ(error_code(r->body), "DENIED") << r->body;
    }
  }
  void expect_admitted(size_t instance, const Call& call, const std::string& authorization) {
    auto c = env.client(instance);
    auto r = send(c, call, authorization);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, GetParam().ok) << call.method << " " << call.path << ": " << r->body;
  }

  AuthEnvironment env{3, matrix_rules()};
  std::string manifest;
  std::string manifest_digest;
  std::string layer;
  int counter = 0;
};

TEST_P(AuthMatrix, RefusesTheUnauthenticatedWithTheChallenge) {
  auto call = GetParam().prepare(*this);
  expect_unauthorized(1, call, "", "");
  expect_unauthorized(1, call, basic_header("alice", "wrong"), "");
  expect_unauthorized(2, call, basic_header("nobody", "alice-pw"), "");
  expect_unauthorized(1, call, "Bearer abc.def.ghi", "invalid_token");
  expect_unauthorized(2, call, "Bearer " + env.external_token("alice", external_access(call), -120), "invalid_token");
  expect_unauthorized(1, call, "Digest username=\"alice\"", "");
}

TEST_P(AuthMatrix, RefusesTheUnauthorizedWithDenied) {
  if (GetParam().any_user) {
    GTEST_SKIP() << GetParam().name << " admits every authenticated user";
  }
  auto call = GetParam().prepare(*this);
  expect_denied(1, call, basic_header("dave", "dave-pw"));
  auto own = env.own_token(0, "dave", token_scopes(call));
  expect_denied(1, call, "Bearer " + own);
  expect_denied(2, call, "Bearer " + own);
  // The external issuer grants everything; regd's rules still say no.
  expect_denied(2, call, "Bearer " + env.external_token("dave", external_access(call)));
}

TEST_P(AuthMatrix, AdmitsTheAuthorizedWithBasicCredentials) {
  expect_admitted(1, GetParam().prepare(*this), basic_header("alice", "alice-pw"));
  expect_admitted(2, GetParam().prepare(*this), basic_header("alice", "alice-pw"));
}

TEST_P(AuthMatrix, AdmitsTheAuthorizedWithATokenFromAnotherInstance) {
  auto call = GetParam().prepare(*this);
  auto token = env.own_token(0, "alice", token_scopes(call));
  ASSERT_FALSE(token.empty());
  expect_admitted(1, call, "Bearer " + token);
  expect_admitted(2, GetParam().prepare(*this), "Bearer " + token);
}

TEST_P(AuthMatrix, AdmitsTheAuthorizedWithAnExternalToken) {
  auto call = GetParam().prepare(*this);
  auto token = env.external_token("alice", external_access(call));
  expect_admitted(2, call, "Bearer " + token);
  expect_admitted(0, GetParam().prepare(*this), "Bearer " + token);
}

Call get(std::string path) {
  return {"GET", std::move(path), "", "", {}};
}

const char* k_scope_pull = "repository:team/app:pull";
const char* k_scope_push = "repository:team/app:pull,push";
const char* k_scope_delete = "repository:team/app:delete";

INSTANTIATE_TEST_SUITE_P(
    Endpoints, AuthMatrix,
    ::testing::Values(
        Endpoint{"base", "", true, 200, [](AuthMatrix&) { return get("/v2/"); }},
        Endpoint{"catalog", "registry:catalog:*", false, 200, [](AuthMatrix&) { return get("/v2/_catalog"); }},
        Endpoint{"metrics", "", true, 200, [](AuthMatrix&) { return get("/metrics"); }},
        Endpoint{"blob_get", k_scope_pull, false, 200,
                 [](AuthMatrix& fixture) { return get("/v2/team/app/blobs/" + fixture.layer); }},
        Endpoint{"blob_head", k_scope_pull, false, 200,
                 [](AuthMatrix& fixture) {
                   return Call{"HEAD", "/v2/team/app/blobs/" + fixture.layer, "", "", {}};
                 }},
        Endpoint{"blob_delete", k_scope_delete, false, 202,
                 [](AuthMatrix& fixture) {
                   return Call{"DELETE", "/v2/team/app/blobs/" + fixture.fresh_blob(), "", "", {}};
                 }},
        Endpoint{"upload_start", k_scope_push, false, 202,
                 [](AuthMatrix&) {
                   return Call{"POST", "/v2/team/app/blobs/uploads/", "", "text/plain", {}};
                 }},
        Endpoint{"upload_single_post", k_scope_push, false, 201,
                 [](AuthMatrix& fixture) {
                   auto body = "single " + std::to_string(++fixture.counter);
                   return Call{"POST",
                               "/v2/team/app/blobs/uploads/?digest=" + sha256_of(body),
                               body,
                               "application/octet-stream",
                               {}};
                 }},
        Endpoint{"upload_status", k_scope_push, false, 204,
                 [](AuthMatrix& fixture) { return get(fixture.fresh_upload()); }},
        Endpoint{"upload_patch", k_scope_push, false, 202,
                 [](AuthMatrix& fixture) {
                   return Call{"PATCH", fixture.fresh_upload(), "abc", "application/octet-stream", {}};
                 }},
        Endpoint{
            "upload_put", k_scope_push, false, 201,
            [](AuthMatrix& fixture) {
              auto body = "put " + std::to_string(++fixture.counter);
              return Call{
                  "PUT", fixture.fresh_upload() + "?digest=" + sha256_of(body), body, "application/octet-stream", {}};
            }},
        Endpoint{"upload_delete", k_scope_push, false, 204,
                 [](AuthMatrix& fixture) {
                   return Call{"DELETE", fixture.fresh_upload(), "", "", {}};
                 }},
        Endpoint{"mount", "repository:team/other:pull,push", false, 201,
                 [](AuthMatrix& fixture) {
                   return Call{"POST",
                               "/v2/team/other/blobs/uploads/?mount=" + fixture.layer + "&from=team/app",
                               "",
                               "text/plain",
                               {}};
                 }},
        Endpoint{"manifest_get", k_scope_pull, false, 200,
                 [](AuthMatrix&) { return get("/v2/team/app/manifests/v1"); }},
        Endpoint{"manifest_head", k_scope_pull, false, 200,
                 [](AuthMatrix&) {
                   return Call{"HEAD", "/v2/team/app/manifests/v1", "", "", {}};
                 }},
        Endpoint{"manifest_put", k_scope_push, false, 201,
                 [](AuthMatrix& fixture) {
                   return Call{"PUT",
                               "/v2/team/app/manifests/p" + std::to_string(++fixture.counter),
                               fixture.manifest,
                               "application/vnd.oci.image.manifest.v1+json",
                               {}};
                 }},
        Endpoint{"manifest_delete_tag", k_scope_delete, false, 202,
                 [](AuthMatrix& fixture) {
                   return Call{"DELETE", "/v2/team/app/manifests/" + fixture.fresh_tag(), "", "", {}};
                 }},
        Endpoint{"manifest_delete_digest", k_scope_delete, false, 202,
                 [](AuthMatrix& fixture) {
                   return Call{"DELETE", "/v2/team/app/manifests/" + fixture.fresh_manifest_digest(), "", "", {}};
                 }},
        Endpoint{"tags_list", k_scope_pull, false, 200, [](AuthMatrix&) { return get("/v2/team/app/tags/list"); }},
        Endpoint{"referrers", k_scope_pull, false, 200,
                 [](AuthMatrix& fixture) { return get("/v2/team/app/referrers/" + fixture.manifest_digest); }}),
    [](const ::testing::TestParamInfo<Endpoint>& endpoint) { return std::string(endpoint.param.name); });

}  // namespace
}  // namespace regd::testing
