#include "auth_htpasswd.h"

#include <gtest/gtest.h>

namespace regd::daemon {
namespace {

// Made with htpasswd -nbB: alice/secret (-C 4), bob/"pass word" (-C 4), carol/c2 (-C 5, $2b$
// and $2a$ variants of the same hash accepted too).
constexpr const char* k_file =
    "alice:$2y$04$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n"
    "\n"
    "# a comment\n"
    "bob:$2y$04$1KMDCnN5xjhakFxX7e5eDugNM13bd49a6w5c0KeERLWMQBwtSd2cG\r\n"
    "carol:$2b$05$ygqHC3hOyN5gE2gw0.KkpOOI7LbYA4JV/IfdlGzAdSvyh9hlE46LG\n";

TEST(ParseHtpasswd, AcceptsBcryptLinesCommentsAndCrlf) {
  auto file = parse_htpasswd(k_file);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->size(), 3u);
}

TEST(Htpasswd, VerifiesTheRightPasswordOnly) {
  auto file = parse_htpasswd(k_file);
  ASSERT_TRUE(file);
  EXPECT_TRUE(file->verify("alice", "secret"));
  EXPECT_TRUE(file->verify("bob", "pass word"));
  EXPECT_TRUE(file->verify("carol", "c2"));
  EXPECT_FALSE(file->verify("alice", "Secret"));
  EXPECT_FALSE(file->verify("alice", ""));
  EXPECT_FALSE(file->verify("alice", std::string("secret\0x", 8)));
  EXPECT_FALSE(file->verify("bob", "secret"));
}

TEST(Htpasswd, UnknownUsersFailLikeWrongPasswords) {
  auto file = parse_htpasswd(k_file);
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->verify("mallory", "secret"));
  EXPECT_FALSE(file->verify("", ""));
  EXPECT_FALSE(file->verify("Alice", "secret"));
}

TEST(ParseHtpasswd, AnEmptyFileHasNoUsers) {
  auto file = parse_htpasswd("");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size(), 0u);
  EXPECT_FALSE(file->verify("alice", "secret"));
}

void expect_error(const std::string& text, const char* fragment) {
  auto file = parse_htpasswd(text);
  ASSERT_FALSE(file) << text;
  EXPECT_EQ(file.error().code, Errc::invalid_argument);
  EXPECT_NE(file.error().message.find(fragment), std::string::npos) << file.error().message;
  auto hash = text.substr(text.find(':') + 1, 12);
  EXPECT_EQ(file.error().message.find(hash), std::string::npos) << "never echo a hash";
}

TEST(ParseHtpasswd, RefusesEveryHashButBcryptNamingTheLine) {
  expect_error("\nmd5:$apr1$abc$0123456789012345678901\n", "line 2: the hash of user md5 is not bcrypt");
  expect_error("sha:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "line 1: the hash of user sha is not bcrypt");
  expect_error("plain:secret\n", "line 1: the hash of user plain is not bcrypt");
  expect_error("crypt:rqXexS6ZhobKA\n", "line 1");
  expect_error("short:$2y$04$tooshort\n", "line 1");
  expect_error("cost:$2y$99$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n", "line 1");
}

// Found by tests/fuzz/htpasswd.cc: the parse hashed at cost 31 (2^31 rounds), stalling a start
// or a reload for about a day.
TEST(ParseHtpasswd, RefusesABcryptCostAbove17) {
  expect_error("dave:$2y$31$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n",
               "line 1: the bcrypt cost of user dave is 31, above 17");
  expect_error("erin:$2b$18$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n", "is 18, above 17");
}

TEST(ParseHtpasswd, RefusesMalformedLinesAndDuplicates) {
  expect_error("no colon here\n", "line 1: expected USER:HASH");
  expect_error(":$2y$04$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n", "line 1: expected USER:HASH");
  expect_error(
      "a:$2y$04$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n"
      "a:$2y$04$1KMDCnN5xjhakFxX7e5eDugNM13bd49a6w5c0KeERLWMQBwtSd2cG\n",
      "line 2: user a is listed twice");
}

}  // namespace
}  // namespace regd::daemon
