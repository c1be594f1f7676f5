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

}  // namespace
}  // namespace regd::testing
