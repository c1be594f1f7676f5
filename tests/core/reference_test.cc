#include "regd/reference.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace regd {
namespace {

const std::string k_hex(64, 'a');

TEST(Reference, AcceptsValidRepositoryNames) {
  const std::vector<std::string> good = {
      "a",
      "library/ubuntu",
      "a0/b1/c2",
      "a.b",
      "a_b",
      "a__b",
      "a-b",
      "a--b",
      "a---b",
      "a.b_c__d-e",
      "0",
      "x/y/z/w/v",
      "my-org/my_repo.name",
      "a" + std::string(254, 'b'),
      "a-b-c/d.e.f",
  };
  for (const auto& name : good) {
    SCOPED_TRACE(name);
    EXPECT_OK(validate_repository(name));
  }
}

TEST(Reference, RejectsInvalidRepositoryNames) {
  const std::vector<std::string> bad = {
      "",
      "..",
      ".",
      "a//b",
      "/a",
      "a/",
      "A",
      "aB",
      "a..b",
      "a___b",
      "a_-b",
      "a-_b",
      "a.-b",
      "-a",
      "a-",
      "_a",
      "a_",
      ".a",
      "a.",
      "a/../b",
      "a/./b",
      "a b",
      "a:b",
      "a@b",
      "a\\b",
      "a/B",
      "a/-b",
      "a\nb",
      std::string("a\0b", 3),
      "é",
      std::string(256, 'a'),
  };
  for (const auto& name : bad) {
    SCOPED_TRACE(name);
    EXPECT_ERRC(validate_repository(name), Errc::name_invalid);
  }
}

TEST(Reference, NameLengthLimitIs255) {
  EXPECT_OK(validate_repository(std::string(255, 'a')));
  EXPECT_ERRC(validate_repository(std::string(256, 'a')), Errc::name_invalid);
  std::string nested = std::string(127, 'a') + "/" + std::string(127, 'b');
  EXPECT_OK(validate_repository(nested));
  EXPECT_ERRC(validate_repository(nested + "c"), Errc::name_invalid);
}

TEST(Reference, ValidatesTags) {
  for (const std::string tag : {"latest", "v1.2.3", "_x", "A", "0", "1.0-rc_1", "x.", "x-"}) {
    EXPECT_OK(validate_tag(tag));
  }
  for (const std::string tag : {"", ".x", "-x", "a/b", "a:b", "a@b", "a b", "a+b", "é"}) {
    EXPECT_ERRC(validate_tag(tag), Errc::tag_invalid);
  }
  EXPECT_OK(validate_tag(std::string(128, 'a')));
  EXPECT_ERRC(validate_tag(std::string(129, 'a')), Errc::tag_invalid);
}

TEST(Reference, ParsesRepositoryAlone) {
  auto ref = Reference::parse("library/ubuntu");
  ASSERT_OK(ref);
  EXPECT_EQ(ref->repository, "library/ubuntu");
  EXPECT_FALSE(ref->tag);
  EXPECT_FALSE(ref->digest);
  EXPECT_EQ(ref->target(), "");
  EXPECT_EQ(ref->str(), "library/ubuntu");
}

TEST(Reference, ParsesTag) {
  auto ref = Reference::parse("library/ubuntu:22.04");
  ASSERT_OK(ref);
  EXPECT_EQ(ref->repository, "library/ubuntu");
  EXPECT_EQ(ref->tag, "22.04");
  EXPECT_EQ(ref->target(), "22.04");
  EXPECT_EQ(ref->str(), "library/ubuntu:22.04");
}

TEST(Reference, ParsesDigest) {
  auto ref = Reference::parse("a/b@sha256:" + k_hex);
  ASSERT_OK(ref);
  EXPECT_EQ(ref->repository, "a/b");
  EXPECT_FALSE(ref->tag);
  ASSERT_TRUE(ref->digest);
  EXPECT_EQ(ref->digest->str(), "sha256:" + k_hex);
  EXPECT_EQ(ref->target(), "sha256:" + k_hex);
}

TEST(Reference, ParsesTagAndDigestAndDigestWins) {
  auto ref = Reference::parse("a/b:v1@sha256:" + k_hex);
  ASSERT_OK(ref);
  EXPECT_EQ(ref->repository, "a/b");
  EXPECT_EQ(ref->tag, "v1");
  EXPECT_EQ(ref->target(), "sha256:" + k_hex);
  EXPECT_EQ(ref->str(), "a/b:v1@sha256:" + k_hex);
}

TEST(Reference, RejectsBadReferences) {
  EXPECT_ERRC(Reference::parse(""), Errc::name_invalid);
  EXPECT_ERRC(Reference::parse("A:latest"), Errc::name_invalid);
  EXPECT_ERRC(Reference::parse("a/../b:latest"), Errc::name_invalid);
  EXPECT_ERRC(Reference::parse("a:"), Errc::tag_invalid);
  EXPECT_ERRC(Reference::parse("a:.x"), Errc::tag_invalid);
  EXPECT_ERRC(Reference::parse("a@"), Errc::digest_invalid);
  EXPECT_ERRC(Reference::parse("a@sha256:abc"), Errc::digest_invalid);
  EXPECT_ERRC(Reference::parse("a@sha256:" + k_hex + "@x"), Errc::digest_invalid);
  EXPECT_ERRC(Reference::parse("a@md5:d41d8cd98f00b204e9800998ecf8427e"), Errc::unsupported);
  // A ':' before the last '/' is not a tag separator (a registry host:port is not a repository).
  EXPECT_ERRC(Reference::parse("host:5000/a"), Errc::name_invalid);
}

}  // namespace
}  // namespace regd
