#include <gtest/gtest.h>

#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class RepositoryOps : public RegistryTest {};

TEST_F(RepositoryOps, DeletingARepositoryRemovesTagsManifestsAndLinksButNotBlobsOrNestedRepositories) {
  auto image = push_image(*m_registry, "team/app", "v1", ImageSpec(R"({"n":1})", {"layer-1"}));
  ASSERT_OK(image);
  ASSERT_OK(m_registry->set_tag("team/app", "latest", *image));
  ImageSpec signature("{}", {"sig"});
  signature.subject = *image;
  signature.subject_size = 10;
  ASSERT_OK(push_image(*m_registry, "team/app", "sig", signature));
  ASSERT_OK(push_image(*m_registry, "team/app/nested", "v1", ImageSpec(R"({"n":2})", {"layer-2"})));

  auto removed = m_registry->delete_repository("team/app");
  ASSERT_OK(removed);
  EXPECT_EQ(removed->tags, 3u);
  EXPECT_EQ(removed->manifests, 2u);
  EXPECT_ERRC(m_registry->get_manifest("team/app", "v1"), Errc::manifest_unknown);
  EXPECT_ERRC(m_registry->list_tags("team/app", 10, ""), Errc::name_unknown);
  EXPECT_ERRC(m_registry->stat_blob("team/app", digest_of("layer-1")), Errc::blob_unknown);
  EXPECT_TRUE(fs::exists(blob_path(digest_of("layer-1")))) << "blob data is GC's to remove";
  for (const char* dir : {"_manifests", "_layers", "_referrers"}) {
    EXPECT_FALSE(fs::exists(repo_path("team/app") / dir)) << dir;
  }
  auto catalog = m_registry->list_repositories(10, "");
  ASSERT_OK(catalog);
  EXPECT_EQ(catalog->items, (std::vector<std::string>{"team/app/nested"}));
  EXPECT_OK(m_registry->get_manifest("team/app/nested", "v1"));
  EXPECT_ERRC(m_registry->delete_repository("team/app"), Errc::name_unknown);
  EXPECT_ERRC(m_registry->delete_repository("nowhere"), Errc::name_unknown);
}

TEST_F(RepositoryOps, AnEmptiedRepositoryDirectoryGoesWithItsEmptyParents) {
  ASSERT_OK(push_image(*m_registry, "a/b/c", "v1", ImageSpec("{}", {"x"})));
  ASSERT_OK(m_registry->delete_repository("a/b/c"));
  EXPECT_FALSE(fs::exists(v2() / "repositories" / "a"));
  EXPECT_TRUE(fs::exists(v2() / "repositories"));
}

TEST_F(RepositoryOps, AnImmutableTagKeepsTheWholeRepository) {
  RegistryOptions options;
  options.immutable_tags = {"v*"};
  m_registry = make_registry(m_storage, options);
  ASSERT_OK(push_image(*m_registry, "team/app", "latest", ImageSpec("{}", {"x"})));
  ASSERT_OK(push_image(*m_registry, "team/app", "v1", ImageSpec("{}", {"y"})));
  EXPECT_ERRC(m_registry->delete_repository("team/app"), Errc::immutable);
  EXPECT_OK(m_registry->get_manifest("team/app", "latest"));
  EXPECT_OK(m_registry->get_manifest("team/app", "v1"));
}

}  // namespace
}  // namespace regd::testing
