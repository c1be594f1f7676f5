#include "auth_rules.h"

#include <gtest/gtest.h>

namespace regd::daemon {
namespace {

const Caller k_anonymous{};
Caller user(const char* name) {
  return {name, true};
}

TEST(GlobMatch, StarStopsAtSlashes) {
  EXPECT_TRUE(glob_match("ci/*", "ci/build"));
  EXPECT_FALSE(glob_match("ci/*", "ci/a/b"));
  EXPECT_TRUE(glob_match("*", "alpine"));
  EXPECT_FALSE(glob_match("*", "library/alpine"));
  EXPECT_TRUE(glob_match("a*c", "abbc"));
  EXPECT_TRUE(glob_match("a*c", "ac"));
}

TEST(GlobMatch, DoubleStarCrossesSlashes) {
  EXPECT_TRUE(glob_match("team/**", "team/a"));
  EXPECT_TRUE(glob_match("team/**", "team/a/b/c"));
  EXPECT_FALSE(glob_match("team/**", "team"));
  EXPECT_FALSE(glob_match("team/**", "teams/a"));
  EXPECT_TRUE(glob_match("**", "x/y/z"));
  EXPECT_TRUE(glob_match("**/cache", "a/b/cache"));
  EXPECT_FALSE(glob_match("**/cache", "a/b/cache2"));
}

TEST(GlobMatch, QuestionMarkIsOneCharacterButNotASlash) {
  EXPECT_TRUE(glob_match("v?", "v1"));
  EXPECT_FALSE(glob_match("v?", "v12"));
  EXPECT_FALSE(glob_match("a?b", "a/b"));
}

TEST(GlobMatch, EverythingElseIsLiteral) {
  EXPECT_TRUE(glob_match("lib.x", "lib.x"));
  EXPECT_FALSE(glob_match("lib.x", "libax"));
  EXPECT_FALSE(glob_match("abc", "abcd"));
}

TEST(GlobMatch, StaysLinearOnPathologicalPatterns) {
  std::string name(250, 'a');
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", name));
  EXPECT_TRUE(glob_match("**a**a**a**a**a**a**a**a", name));
}

TEST(ParseActions, ReadsListsAndStar) {
  EXPECT_EQ(*parse_actions("pull", true), k_pull);
  EXPECT_EQ(*parse_actions("pull, push", true), k_pull | k_push);
  EXPECT_EQ(*parse_actions("*", true), k_all_actions);
  EXPECT_EQ(*parse_actions("delete", true), k_delete);
  EXPECT_FALSE(parse_actions("pull,fly", true));
  EXPECT_EQ(*parse_actions("pull,fly", false), k_pull);
  EXPECT_EQ(format_actions(k_push | k_pull), "pull,push");
  EXPECT_EQ(format_actions(0), "");
}

constexpr const char* k_example = R"(# comment
group admins: alice bob          # a group and its members

user:alice     team/**      pull,push,delete
group:ci       ci/*         *
anonymous      public/**    pull
authenticated  **           pull
group ci: robot
)";

TEST(ParseAccessRules, ReadsTheDocumentedExample) {
  auto rules = parse_access_rules(k_example);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->rules.size(), 4u);
  EXPECT_EQ(rules->groups.at("admins").size(), 2u);
  EXPECT_EQ(rules->allowed(user("alice"), "team/x/y"), k_all_actions);
  EXPECT_EQ(rules->allowed(user("alice"), "other"), k_pull);
  EXPECT_EQ(rules->allowed(user("robot"), "ci/build"), k_all_actions);
  EXPECT_EQ(rules->allowed(user("robot"), "ci/a/b"), k_pull);
  EXPECT_EQ(rules->allowed(k_anonymous, "public/x"), k_pull);
  EXPECT_EQ(rules->allowed(k_anonymous, "team/x"), 0);
}

TEST(ParseAccessRules, DefaultDeny) {
  auto rules = parse_access_rules("user:alice a pull\n");
  ASSERT_TRUE(rules);
  EXPECT_EQ(rules->allowed(user("bob"), "a"), 0);
  EXPECT_EQ(rules->allowed(k_anonymous, "a"), 0);
  EXPECT_EQ(rules->allowed(user("alice"), "b"), 0);
}

TEST(ParseAccessRules, SubjectsMatchTheirCallers) {
  auto rules = parse_access_rules(
      "*             all      pull\n"
      "anonymous     anon     pull\n"
      "authenticated authed   pull\n"
      "group:g       grp      push\n"
      "group g: carol\n");
  ASSERT_TRUE(rules) << rules.error().message;
  EXPECT_EQ(rules->allowed(k_anonymous, "all"), k_pull);
  EXPECT_EQ(rules->allowed(user("x"), "all"), k_pull);
  EXPECT_EQ(rules->allowed(k_anonymous, "anon"), k_pull);
  EXPECT_EQ(rules->allowed(user("x"), "anon"), 0);  // anonymous means no credentials
  EXPECT_EQ(rules->allowed(k_anonymous, "authed"), 0);
  EXPECT_EQ(rules->allowed(user("x"), "authed"), k_pull);
  EXPECT_EQ(rules->allowed(user("carol"), "grp"), k_push);
  EXPECT_EQ(rules->allowed(user("x"), "grp"), 0);
}

TEST(ParseAccessRules, UnionOfMatchingRules) {
  auto rules = parse_access_rules("user:a x pull\nuser:a x push\nuser:a y delete\n");
  ASSERT_TRUE(rules);
  EXPECT_EQ(rules->allowed(user("a"), "x"), k_pull | k_push);
}

TEST(ParseAccessRules, PullsAnywhereKnowsWhoMayListTheCatalog) {
  auto rules = parse_access_rules("anonymous public/** pull\nuser:w x push\n");
  ASSERT_TRUE(rules);
  EXPECT_TRUE(rules->pulls_anywhere(k_anonymous));
  EXPECT_FALSE(rules->pulls_anywhere(user("w")));
}

void expect_error(const char* text, const char* fragment) {
  auto rules = parse_access_rules(text);
  ASSERT_FALSE(rules) << text;
  EXPECT_NE(rules.error().message.find(fragment), std::string::npos) << rules.error().message;
  EXPECT_EQ(rules.error().code, Errc::invalid_argument);
}

TEST(ParseAccessRules, NamesTheLineOfEveryError) {
  expect_error("\n\nuser:a x fly\n", "line 3: unknown action 'fly'");
  expect_error("somebody x pull\n", "line 1: unknown subject 'somebody'");
  expect_error("# c\nuser:a x\n", "line 2: expected SUBJECT GLOB ACTIONS");
  expect_error("user:a Upper pull\n", "line 1: 'Upper' is not a repository glob");
  expect_error("group:missing x pull\n", "line 1: group missing is not defined");
  expect_error("group g: a\ngroup g: b\n", "line 2: group g is defined twice");
  expect_error("group g a b\n", "line 1: expected 'group NAME: MEMBER...'");
  expect_error("user: x pull\n", "line 1: unknown subject");
}

TEST(DefaultAccessRules, LetEveryAuthenticatedUserDoEverythingAndAnonymousNothing) {
  auto rules = default_access_rules();
  EXPECT_EQ(rules.allowed(user("anyone"), "a/b"), k_all_actions);
  EXPECT_EQ(rules.allowed(k_anonymous, "a/b"), 0);
}

}  // namespace
}  // namespace regd::daemon
