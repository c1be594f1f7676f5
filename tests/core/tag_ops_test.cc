#include <gtest/gtest.h>

#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class TagOps : public RegistryTest {
 protected:
  Digest push(std::string_view tag, std::string layer = "layer") {
    auto digest = push_image(*m_registry, "r", tag, ImageSpec{"{}", {std::move(layer)}});
    EXPECT_TRUE(digest.has_value());
    return digest ? *digest : digest_of("");
  }
};

TEST_F(TagOps, SetTagPointsAtAStoredManifest) {
  Digest digest = push("v1");
  ASSERT_OK(m_registry->set_tag("r", "v2", digest));
  EXPECT_EQ(read_disk(repo_path("r") / "_manifests/tags/v2/current/link"), digest.str());
  EXPECT_EQ(read_disk(repo_path("r") / "_manifests/tags/v2/index/sha256" / digest.hex() / "link"), digest.str());
  auto manifest = m_registry->get_manifest("r", "v2");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->digest, digest);
}

TEST_F(TagOps, SetTagMovesATag) {
  Digest first = push("v1", "one");
  Digest second = push("v2", "two");
  ASSERT_OK(m_registry->set_tag("r", "v1", second));
  auto manifest = m_registry->get_manifest("r", "v1");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->digest, second);
  EXPECT_NE(first, second);
}

TEST_F(TagOps, SetTagRequiresTheManifest) {
  push("v1");
  EXPECT_ERRC(m_registry->set_tag("r", "v2", digest_of("absent")), Errc::manifest_unknown);
  EXPECT_ERRC(m_registry->set_tag("r", ".bad", digest_of("absent")), Errc::tag_invalid);
  EXPECT_FALSE(fs::exists(repo_path("r") / "_manifests/tags/v2"));
}

TEST_F(TagOps, DeleteTagRemovesTheTagDirectoryOnly) {
  Digest digest = push("v1");
  ASSERT_OK(m_registry->set_tag("r", "v2", digest));
  ASSERT_OK(m_registry->delete_tag("r", "v1"));
  EXPECT_FALSE(fs::exists(repo_path("r") / "_manifests/tags/v1"));
  EXPECT_ERRC(m_registry->get_manifest("r", "v1"), Errc::manifest_unknown);
  ASSERT_OK(m_registry->get_manifest("r", "v2"));
  ASSERT_OK(m_registry->get_manifest("r", digest.str()));
  EXPECT_ERRC(m_registry->delete_tag("r", "v1"), Errc::manifest_unknown);
  EXPECT_ERRC(m_registry->delete_tag("r", "a/b"), Errc::tag_invalid);
}

TEST_F(TagOps, ATagWhoseRevisionIsGoneIsUnknown) {
  Digest digest = push("v1");
  fs::remove_all(repo_path("r") / "_manifests/revisions/sha256" / digest.hex());
  EXPECT_ERRC(m_registry->get_manifest("r", "v1"), Errc::manifest_unknown);
}

TEST_F(TagOps, ACorruptTagLinkIsReported) {
  push("v1");
  write_disk(repo_path("r") / "_manifests/tags/v1/current/link", "garbage");
  EXPECT_ERRC(m_registry->get_manifest("r", "v1"), Errc::corrupt);
}

TEST(TagPatterns, MatchGlobsWithStarAndQuestionMark) {
  std::vector<std::string> patterns = {"v*", "release-?", "*-stable"};
  EXPECT_TRUE(tag_matches_any("v1.2.3", patterns));
  EXPECT_TRUE(tag_matches_any("v", patterns));
  EXPECT_TRUE(tag_matches_any("release-1", patterns));
  EXPECT_FALSE(tag_matches_any("release-12", patterns));
  EXPECT_TRUE(tag_matches_any("1.0-stable", patterns));
  EXPECT_FALSE(tag_matches_any("latest", patterns));
  EXPECT_FALSE(tag_matches_any("xv1", patterns));
  EXPECT_FALSE(tag_matches_any("v1", {}));
}

class ImmutableTags : public TagOps {
 protected:
  ImmutableTags() {
    RegistryOptions options;
    options.immutable_tags = {"v*"};
    m_registry = make_registry(m_storage, options);
  }
};

TEST_F(ImmutableTags, RefuseToMoveOrGoButAcceptTheSameDigest) {
  Digest first = push("v1", "one");
  Digest other = push("latest", "two");
  EXPECT_ERRC(m_registry->set_tag("r", "v1", other), Errc::immutable);
  ASSERT_OK(m_registry->set_tag("r", "v1", first));
  EXPECT_ERRC(push_image(*m_registry, "r", "v1", ImageSpec{"{}", {"two"}}), Errc::immutable);
  EXPECT_ERRC(m_registry->delete_tag("r", "v1"), Errc::immutable);
  EXPECT_ERRC(m_registry->delete_manifest("r", first), Errc::immutable);
  auto manifest = m_registry->get_manifest("r", "v1");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->digest, first);
  ASSERT_OK(m_registry->set_tag("r", "latest", first));  // not matching: moves freely
  ASSERT_OK(m_registry->delete_tag("r", "latest"));
  ASSERT_OK(m_registry->delete_manifest("r", other));
}

TEST_F(ImmutableTags, ARefusedPushStoresNothing) {
  push("v1", "one");
  auto content = image_manifest(ImageSpec{"{}", {"one"}}) + " ";
  auto refused = m_registry->put_manifest("r", digest_of(content).str(), "", content, {"ok", "v1"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::immutable);
  EXPECT_NE(refused.error().message.find("tag v1 in repository r is immutable"), std::string::npos)
      << refused.error().message;
  EXPECT_ERRC(m_registry->get_manifest("r", digest_of(content).str()), Errc::manifest_unknown);
  EXPECT_ERRC(m_registry->get_manifest("r", "ok"), Errc::manifest_unknown);
}

TEST_F(TagOps, ATagKeepsTheDigestAlgorithmItWasPushedWith) {
  auto content = image_manifest(ImageSpec{"{}", {"layer"}});
  for (const auto& blob : {std::string("{}"), std::string("layer")}) {
    ASSERT_OK(push_blob(*m_registry, "r", blob));
  }
  Digest sha512 = digest_of(content, DigestAlgorithm::sha512);
  auto put = m_registry->put_manifest("r", sha512.str(), "", content, {"t512"});
  ASSERT_OK(put);
  EXPECT_EQ(put->tags, std::vector<std::string>{"t512"});
  auto manifest = m_registry->get_manifest("r", "t512");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->digest, sha512);
}

TEST_F(TagOps, NotFoundMessagesNameTheRepository) {
  push("v1");
  auto tag = m_registry->get_manifest("r", "nope");
  ASSERT_FALSE(tag);
  EXPECT_EQ(tag.error().message, "tag nope not in repository r");
  auto deleted = m_registry->delete_tag("r", "nope");
  ASSERT_FALSE(deleted);
  EXPECT_EQ(deleted.error().message, "tag nope not in repository r");
}

}  // namespace
}  // namespace regd::testing
