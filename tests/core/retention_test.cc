#include "regd/retention.h"

#include <gtest/gtest.h>

#include "gc_lease.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Retention : public RegistryTest {
 protected:
  // Pushes a distinct image tagged `tag`, last set `age` ago.
  Digest push_tag(const std::string& tag, std::chrono::seconds age, const std::string& repo = "team/app") {
    auto digest = push_image(*m_registry, repo, tag, ImageSpec(R"({"tag":")" + tag + "\"}", {"layer-" + tag}));
    EXPECT_TRUE(digest.has_value());
    set_age(repo_path(repo) / "_manifests/tags" / tag / "current/link", age);
    set_age(revision(repo, *digest), age);
    return *digest;
  }
  fs::path revision(const std::string& repo, const Digest& digest) {
    return repo_path(repo) / "_manifests/revisions/sha256" / digest.hex() / "link";
  }
  static void set_age(const fs::path& path, std::chrono::seconds age) {
    fs::last_write_time(path, fs::file_time_type::clock::now() - age);
  }
  std::vector<std::string> tags(const std::string& repo = "team/app") {
    auto page = m_registry->list_tags(repo, 100, "");
    EXPECT_TRUE(page.has_value());
    return page ? page->items : std::vector<std::string>{};
  }
  PruneReport run(PruneOptions options) {
    auto report = prune(m_storage, options);
    EXPECT_TRUE(report.has_value()) << report.error().message;
    return report ? *report : PruneReport{};
  }
  static std::vector<std::string> names(const std::vector<PrunedTag>& list) {
    std::vector<std::string> out;
    for (const PrunedTag& tag : list) {
      out.push_back(tag.tag);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(Retention, KeepsTheNewestMatchingTagsAndEveryOtherTag) {
  for (int i = 1; i <= 4; ++i) {
    push_tag("v" + std::to_string(i), std::chrono::hours(5 - i));
  }
  push_tag("latest", 10h);
  PruneOptions options;
  options.policy.match = {"v*"};
  options.policy.keep_newest = 2;
  auto report = run(options);
  EXPECT_EQ(names(report.removed_tags), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(report.tags_kept, 3u);
  EXPECT_EQ(tags(), (std::vector<std::string>{"latest", "v3", "v4"}));
  EXPECT_FALSE(fs::exists(repo_path("team/app") / "_manifests/tags/v1")) << "the tag directory goes too";
}

TEST_F(Retention, EitherKeepRuleKeepsATag) {
  for (int i = 1; i <= 4; ++i) {
    push_tag("v" + std::to_string(i), std::chrono::hours(5 - i));
  }
  PruneOptions options;
  options.policy.keep_newest = 1;
  options.policy.keep_within = 150min;
  auto report = run(options);
  EXPECT_EQ(names(report.removed_tags), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(tags(), (std::vector<std::string>{"v3", "v4"}));
}

TEST_F(Retention, UntaggedManifestsGoOnlyWhenOldAndReachedByNoTag) {
  std::string child_a = image_manifest(ImageSpec(R"({"arch":"a"})", {"la"}));
  std::string child_b = image_manifest(ImageSpec(R"({"arch":"b"})", {"lb"}));
  for (const auto* spec : {&child_a, &child_b}) {
    for (const char* blob : {"la", "lb", R"({"arch":"a"})", R"({"arch":"b"})"}) {
      ASSERT_OK(push_blob(*m_registry, "team/app", blob));
    }
    ASSERT_OK(m_registry->put_manifest("team/app", digest_of(*spec).str(), media_type::oci_manifest, *spec));
  }
  auto index = m_registry->put_manifest("team/app", "multi", media_type::oci_index, index_manifest({child_a, child_b}));
  ASSERT_OK(index);
  Digest tagged = push_tag("v1", 3h);
  ImageSpec signature("{}", {"sig"});
  signature.subject = tagged;
  signature.subject_size = 1;
  auto referrer = push_image(*m_registry, "team/app", "sig", signature);
  ASSERT_OK(referrer);
  ASSERT_OK(m_registry->delete_tag("team/app", "sig"));
  Digest old = push_tag("old", 3h);
  ASSERT_OK(m_registry->delete_tag("team/app", "old"));
  Digest young = push_tag("young", 0s);
  ASSERT_OK(m_registry->delete_tag("team/app", "young"));
  for (const Digest& digest : {digest_of(child_a), digest_of(child_b), index->digest, *referrer}) {
    set_age(revision("team/app", digest), 3h);
  }
  PruneOptions options;
  options.policy.untagged_older_than = 1h;
  auto report = run(options);
  ASSERT_EQ(report.removed_manifests.size(), 1u);
  EXPECT_EQ(report.removed_manifests[0].digest, old);
  EXPECT_ERRC(m_registry->get_manifest("team/app", old.str()), Errc::manifest_unknown);
  for (const Digest& digest : {digest_of(child_a), index->digest, *referrer, young}) {
    SCOPED_TRACE(digest.str());
    EXPECT_OK(m_registry->get_manifest("team/app", digest.str()));
  }
}

TEST_F(Retention, ADryRunChangesNothingAndCountsWhatItsTagRemovalsWouldUntag) {
  Digest first = push_tag("v1", 3h);
  push_tag("v2", 2h);
  PruneOptions options;
  options.policy.keep_newest = 1;
  options.policy.untagged_older_than = 1h;
  options.dry_run = true;
  auto report = run(options);
  EXPECT_EQ(names(report.removed_tags), (std::vector<std::string>{"v1"}));
  ASSERT_EQ(report.removed_manifests.size(), 1u);
  EXPECT_EQ(report.removed_manifests[0].digest, first);
  EXPECT_EQ(tags(), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_FALSE(fs::exists(v2() / "_gc")) << "a dry run takes no lease";

  options.dry_run = false;
  report = run(options);
  EXPECT_EQ(names(report.removed_tags), (std::vector<std::string>{"v1"}));
  ASSERT_EQ(report.removed_manifests.size(), 1u);
  EXPECT_ERRC(m_registry->get_manifest("team/app", first.str()), Errc::manifest_unknown);
}

TEST_F(Retention, ImmutableTagsAreNeverRemoved) {
  push_tag("v1", 3h);
  push_tag("v2", 2h);
  push_tag("v3", 1h);
  PruneOptions options;
  options.policy.keep_newest = 1;
  options.immutable_tags = {"v1"};
  auto report = run(options);
  EXPECT_EQ(names(report.removed_tags), (std::vector<std::string>{"v2"}));
  EXPECT_EQ(names(report.immutable), (std::vector<std::string>{"v1"}));
  EXPECT_EQ(tags(), (std::vector<std::string>{"v1", "v3"}));
}

TEST_F(Retention, ATagRepointedWhileBeingRemovedIsKept) {
  push_tag("v1", 3h);
  Digest newer = push_tag("v2", 1h);
  // A writer re-points v1 between prune's check and its parking of the current link.
  auto racing = std::make_shared<RenameHookStorage>(m_storage, ".tmp-prune-", RenameHookStorage::When::before,
                                                    [&] { ASSERT_OK(m_registry->set_tag("team/app", "v1", newer)); });
  PruneOptions options;
  options.policy.keep_newest = 1;
  auto report = prune(racing, options);
  ASSERT_OK(report);
  EXPECT_TRUE(report->removed_tags.empty());
  EXPECT_EQ(names(report->moved), (std::vector<std::string>{"v1"}));
  auto v1 = m_registry->get_manifest("team/app", "v1");
  ASSERT_OK(v1);
  EXPECT_EQ(v1->digest, newer);
}

TEST_F(Retention, RunsUnderTheGcLeaseAndNeedsARule) {
  push_tag("v1", 3h);
  PruneOptions options;
  EXPECT_ERRC(prune(m_storage, options), Errc::invalid_argument);
  options.policy.keep_newest = 1;
  auto held = GcLease::acquire(*m_storage, "other-host", 600s);
  ASSERT_OK(held);
  EXPECT_ERRC(prune(m_storage, options), Errc::conflict);
  options.repositories = {"nowhere"};
  held->reset();
  EXPECT_ERRC(prune(m_storage, options), Errc::name_unknown);
}

}  // namespace
}  // namespace regd::testing
