#include "auth_token.h"

#include <gtest/gtest.h>

#include "auth_test_keys.h"

namespace regd::daemon {
namespace {

using namespace regd::testing;
using WallClock = std::chrono::system_clock;

TEST(ParseScope, ReadsRepositoryAndCatalogScopes) {
  auto s = parse_scope("repository:team/app:pull,push");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, "repository");
  EXPECT_EQ(s->name, "team/app");
  EXPECT_EQ(s->actions, k_pull | k_push);
  auto c = parse_scope("registry:catalog:*");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "registry");
  EXPECT_EQ(c->name, "catalog");
  auto plugin = parse_scope("repository(plugin):p:pull");
  ASSERT_TRUE(plugin);
  EXPECT_EQ(plugin->type, "repository");
  EXPECT_EQ(parse_scope("repository:a:pull,fly")->actions, k_pull);
  EXPECT_EQ(parse_scope("repository:a:*")->actions, k_all_actions);
}

TEST(ParseScope, RefusesMalformedScopes) {
  EXPECT_FALSE(parse_scope(""));
  EXPECT_FALSE(parse_scope("repository"));
  EXPECT_FALSE(parse_scope("repository:pull"));
  EXPECT_FALSE(parse_scope("repository::pull"));
  EXPECT_FALSE(parse_scope("user:a:pull"));
}

TEST(ParseScopes, SplitsSpacesAndDropsMalformedOnes) {
  auto scopes = parse_scopes({"repository:a:pull repository:b:push", "bogus", "registry:catalog:*"});
  ASSERT_EQ(scopes.size(), 3u);
  EXPECT_EQ(scopes[1].name, "b");
  EXPECT_EQ(format_scope(scopes[0]), "repository:a:pull");
  EXPECT_EQ(format_scope(scopes[2]), "registry:catalog:*");
}

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ec = make_ec_key();
    rsa = make_rsa_key();
    own = *parse_signing_key(ec.private_pem);
    trusts = {{"regd", {own.public_key}}, {"ext", *parse_trusted_keys(rsa.public_pem)}};
  }
  TokenClaims claims(std::chrono::seconds ttl = std::chrono::seconds(300)) const {
    TokenClaims c;
    c.issuer = "regd";
    c.subject = "alice";
    c.audience = "svc";
    c.issued_at = std::chrono::time_point_cast<std::chrono::seconds>(WallClock::now());
    c.not_before = c.issued_at;
    c.expires_at = c.issued_at + ttl;
    c.access = {{"repository", "a/b", k_pull | k_push}, {"registry", "catalog", k_all_actions}};
    return c;
  }
  Result<TokenClaims> verify(const std::string& token, WallClock::time_point now = WallClock::now()) const {
    return verify_token(token, trusts, "svc", now);
  }
  void expect_refused(const std::string& token, const char* why) const {
    auto v = verify(token);
    ASSERT_FALSE(v) << "accepted: " << token;
    EXPECT_NE(v.error().message.find(why), std::string::npos) << v.error().message;
  }

  TestKey ec, rsa;
  SigningKey own;
  std::vector<TokenTrust> trusts;
};

TEST_F(TokenTest, OwnTokensRoundTrip) {
  auto token = sign_token(own, claims());
  ASSERT_TRUE(token) << token.error().message;
  auto v = verify(*token);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->subject, "alice");
  EXPECT_EQ(v->issuer, "regd");
  EXPECT_EQ(v->access, claims().access);
  EXPECT_EQ(v->expires_at, claims().expires_at);
}

// Found by tests/fuzz/token.cc: a user name that is not UTF-8 (Latin-1 in the htpasswd file)
// made sign_token throw from nlohmann's dump(), and a NUL made libjwt fail as an io_error.
TEST_F(TokenTest, SigningRefusesUsersAndScopesThatAreNotUtf8OrHoldNul) {
  auto latin1 = claims();
  latin1.subject = "jos\xe9";
  auto token = sign_token(own, latin1);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, Errc::invalid_argument);
  auto nul = claims();
  nul.access.push_back({"repository", std::string("a\0b", 3), k_pull});
  token = sign_token(own, nul);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, Errc::invalid_argument);
  auto utf8 = claims();
  utf8.subject = "jos\xc3\xa9";
  token = sign_token(own, utf8);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(verify(*token)->subject, "jos\xc3\xa9");
}

TEST_F(TokenTest, Es256SignaturesAreJoseRAndS) {
  auto token = sign_token(own, claims());
  ASSERT_TRUE(token);
  auto signature = token->substr(token->rfind('.') + 1);
  EXPECT_EQ(signature.size(), 86u);  // 64 bytes (R || S) in unpadded base64url, not DER
}

TEST_F(TokenTest, Rs256OwnKeysWorkToo) {
  auto key = *parse_signing_key(rsa.private_pem);
  std::vector<TokenTrust> t = {{"regd", {key.public_key}}};
  auto token = sign_token(key, claims());
  ASSERT_TRUE(token);
  EXPECT_TRUE(verify_token(*token, t, "svc", WallClock::now()));
}

TEST_F(TokenTest, ExternalTokensFromLibjwtVerify) {
  auto token =
      libjwt_token(token_claims("ext", "svc", "bob", {repo_access("x", {"pull", "fly"})}), rsa.private_pem, "RS256");
  auto v = verify(token);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->subject, "bob");
  ASSERT_EQ(v->access.size(), 1u);
  EXPECT_EQ(v->access[0].actions, k_pull);
}

TEST_F(TokenTest, AudienceMayBeAnArray) {
  auto c = token_claims("ext", "svc", "bob", nlohmann::json::array());
  c["aud"] = {"other", "svc"};
  EXPECT_TRUE(verify(libjwt_token(c, rsa.private_pem, "RS256")));
}

TEST_F(TokenTest, RefusesExpiredAndNotYetValidTokens) {
  auto now = WallClock::now();
  auto token = *sign_token(own, claims(std::chrono::seconds(10)));
  EXPECT_TRUE(verify(token, now + std::chrono::seconds(10) + k_token_leeway - std::chrono::seconds(2)));
  auto late = verify(token, now + std::chrono::seconds(15) + k_token_leeway);
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message.find("expired"), std::string::npos);
  auto early = verify(token, now - k_token_leeway - std::chrono::seconds(5));
  ASSERT_FALSE(early);
  EXPECT_NE(early.error().message.find("not valid yet"), std::string::npos);
  auto c = token_claims("ext", "svc", "bob", nlohmann::json::array());
  c.erase("exp");
  expect_refused(libjwt_token(c, rsa.private_pem, "RS256"), "no expiry");
}

TEST_F(TokenTest, RefusesTheWrongAudienceOrIssuer) {
  expect_refused(libjwt_token(token_claims("ext", "other", "bob", {}), rsa.private_pem, "RS256"), "wrong audience");
  expect_refused(libjwt_token(token_claims("nobody", "svc", "bob", {}), rsa.private_pem, "RS256"), "unknown issuer");
  // Signed by the external key but claiming to be regd's own.
  expect_refused(libjwt_token(token_claims("regd", "svc", "bob", {}), rsa.private_pem, "RS256"), "bad signature");
}

TEST_F(TokenTest, RefusesAWrongKey) {
  auto stranger = make_ec_key();
  expect_refused(libjwt_token(token_claims("regd", "svc", "bob", {}), stranger.private_pem, "ES256"), "bad signature");
  auto other_rsa = make_rsa_key();
  expect_refused(libjwt_token(token_claims("ext", "svc", "bob", {}), other_rsa.private_pem, "RS256"), "bad signature");
}

TEST_F(TokenTest, RefusesAlgNone) {
  auto c = token_claims("regd", "svc", "mallory", {repo_access("a/b", {"*"})});
  expect_refused(raw_jwt({{"alg", "none"}, {"typ", "JWT"}}, c, ""), "invalid token");
  expect_refused(raw_jwt({{"alg", "none"}}, c, "x"), "invalid token");
}

TEST_F(TokenTest, RefusesHs256KeyedWithAPublicKey) {
  auto c = token_claims("ext", "svc", "mallory", {repo_access("a/b", {"*"})});
  expect_refused(hs256_jwt(c, rsa.public_pem), "algorithm not accepted");
  auto own_claims = token_claims("regd", "svc", "mallory", {repo_access("a/b", {"*"})});
  expect_refused(hs256_jwt(own_claims, own.public_key.pem), "algorithm not accepted");
}

TEST_F(TokenTest, RefusesAnAlgorithmThatDoesNotMatchTheKey) {
  // An RS256 header on regd's own (EC) issuer: no key of that kind is tried.
  auto c = token_claims("regd", "svc", "mallory", {});
  expect_refused(libjwt_token(c, rsa.private_pem, "RS256"), "bad signature");
  auto p384 = make_ec_key("P-384");
  expect_refused(libjwt_token(c, p384.private_pem, "ES384"), "algorithm not accepted");
}

TEST_F(TokenTest, RefusesTamperedAndMalformedTokens) {
  auto token = *sign_token(own, claims());
  auto first_dot = token.find('.');
  auto second_dot = token.find('.', first_dot + 1);
  auto forged =
      token.substr(0, first_dot + 1) +
      base64url(nlohmann::json{{"iss", "regd"}, {"aud", "svc"}, {"sub", "root"}, {"exp", epoch_now() + 99}}.dump()) +
      token.substr(second_dot);
  expect_refused(forged, "bad signature");
  expect_refused("", "malformed");
  expect_refused("a.b", "malformed");
  expect_refused("not a token at all", "malformed");
}

TEST_F(TokenTest, RefusesMalformedAccessClaims) {
  auto c = token_claims("ext", "svc", "bob", nlohmann::json::array());
  c["access"] = {{{"type", "repository"}, {"name", 5}}};
  expect_refused(libjwt_token(c, rsa.private_pem, "RS256"), "malformed access entry");
}

// A trusted issuer's odd claim values make the token invalid; they once threw out of
// verify_token (a number as sub) or overflowed the clock (exp 1e300, and 9223372036.85 seconds
// plus the leeway: found by fuzz_token).
TEST_F(TokenTest, RefusesDatesAndNamesOfTheWrongType) {
  auto base = token_claims("ext", "svc", "bob", nlohmann::json::array());
  for (const auto& [name, value, why] : std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
           {"exp", 1e300, "exp is not a date"},
           {"exp", 9223372036854775807LL, "exp is not a date"},
           {"exp", 9223372036.854775807, "exp is not a date"},
           {"exp", 253402300799LL, "exp is not a date"},
           {"exp", "tomorrow", "exp is not a date"},
           {"nbf", -1e300, "nbf is not a date"},
           {"iat", nlohmann::json::array(), "iat is not a date"},
           {"sub", 5, "sub is not a string"}}) {
    auto c = base;
    c[name] = value;
    expect_refused(libjwt_token(c, rsa.private_pem, "RS256"), why.c_str());
  }
  auto fractional = base;
  fractional["exp"] = static_cast<double>(epoch_now() + 300) + 0.5;
  EXPECT_TRUE(verify(libjwt_token(fractional, rsa.private_pem, "RS256")));
}

}  // namespace
}  // namespace regd::daemon
