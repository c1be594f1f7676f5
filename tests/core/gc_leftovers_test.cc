// Garbage collection and collect_leftovers on what interrupted writes leave behind
// (docs/storage-layout.md, "Crash points"): never a reason to stop, always removed once old.
#include <gtest/gtest.h>

#include "regd/gc.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class GcLeftoversTest : public RegistryTest {
 protected:
  Result<GcReport> gc(GcOptions options = {}) {
    options.grace = 3600s;
    return collect_garbage(m_storage, options);
  }
  void age_everything(std::chrono::seconds age) {
    auto when = fs::file_time_type::clock::now() - age;
    for (const auto& entry : fs::recursive_directory_iterator(m_dir.path())) {
      fs::last_write_time(entry.path(), when);
    }
  }
  Result<LeftoverReport> find() {
    return collect_leftovers(m_storage, {.dry_run = true, .grace = 3600s, .lease_ttl = 600s, .holder = "test"});
  }
  size_t temp_files() const {
    size_t n = 0;
    for (const auto& entry : fs::recursive_directory_iterator(m_dir.path())) {
      n += entry.path().filename().string().starts_with(".tmp-") ? 1 : 0;
    }
    return n;
  }
  fs::path layer_dir(std::string_view repo, const Digest& d) const {
    return repo_path(repo) / "_layers" / "sha256" / d.hex();
  }
  fs::path revision_dir(std::string_view repo, const Digest& d) const {
    return repo_path(repo) / "_manifests" / "revisions" / "sha256" / d.hex();
  }
};

// What a killed manifest PUT of an older regd left (revision link first, data never written): an
// old revision link without data that no tag needs. GC used to stop on it for good.
TEST_F(GcLeftoversTest, RevisionLinkWithoutDataNeitherStopsGcNorStays) {
  auto image = push_image(*m_registry, "app", "v1", ImageSpec("{}", {"kept"}));
  ASSERT_OK(image);
  auto orphan = push_blob(*m_registry, "app", "unreferenced");
  ASSERT_OK(orphan);
  Digest ghost = digest_of("{\"never\":\"stored\"}");
  write_disk(revision_dir("app", ghost) / "link", ghost.str());
  write_disk(blob_path(ghost).parent_path() / ".tmp-killed", "{\"never\"");
  age_everything(2h);

  auto found = find();
  ASSERT_OK(found);
  EXPECT_EQ(found->found.size(), 3u);  // the revision link, the temp file, its blob directory
  auto report = gc();
  ASSERT_OK(report);
  EXPECT_TRUE(report->incomplete.empty());
  EXPECT_EQ(report->blobs_removed, 1u);
  EXPECT_FALSE(fs::exists(blob_path(*orphan)));
  EXPECT_FALSE(fs::exists(revision_dir("app", ghost)));
  EXPECT_FALSE(fs::exists(blob_path(ghost).parent_path()));
  EXPECT_GE(report->leftovers_removed, 3u);  // link, temp file, then-empty blob directory

  EXPECT_OK(m_registry->get_manifest("app", "v1"));
  EXPECT_EQ(temp_files(), 0u);
  auto after = find();
  ASSERT_OK(after);
  EXPECT_TRUE(after->found.empty());
}

// A tagged manifest whose data is gone is lost data, not a leftover: the repository keeps every
// blob it links and is reported; GC still collects elsewhere.
TEST_F(GcLeftoversTest, TaggedManifestWithoutDataConfinesItsRepository) {
  auto image = push_image(*m_registry, "app", "v1", ImageSpec("{}", {"needed"}));
  ASSERT_OK(image);
  auto linked = push_blob(*m_registry, "app", "linked but unreferenced");
  ASSERT_OK(linked);
  auto garbage = push_blob(*m_registry, "other", "garbage");
  ASSERT_OK(garbage);
  fs::remove(blob_path(*image));
  age_everything(2h);
  auto report = gc();
  ASSERT_OK(report);
  ASSERT_EQ(report->incomplete.size(), 1u);
  EXPECT_EQ(report->incomplete[0].repository, "app");
  EXPECT_TRUE(fs::exists(blob_path(*linked)));
  EXPECT_TRUE(fs::exists(blob_path(digest_of("needed"))));
  EXPECT_TRUE(fs::exists(revision_dir("app", *image) / "link"));
  EXPECT_FALSE(fs::exists(blob_path(*garbage)));
  EXPECT_EQ(report->incomplete[0].reason.find(m_dir.path().string()), std::string::npos);
}

// A killed finishing PUT of an upload: layer link written, data never moved. Invisible to
// readers, removed by GC once old; a young one stays.
TEST_F(GcLeftoversTest, LayerLinkWithoutDataGoesOnlyWhenOld) {
  Digest old_one = digest_of("never moved");
  Digest young = digest_of("being finished");
  write_disk(layer_dir("app", old_one) / "link", old_one.str());
  age_everything(2h);
  write_disk(layer_dir("app", young) / "link", young.str());
  auto report = gc();
  ASSERT_OK(report);
  EXPECT_EQ(report->leftovers_removed, 1u);
  EXPECT_FALSE(fs::exists(layer_dir("app", old_one)));
  EXPECT_TRUE(fs::exists(layer_dir("app", young) / "link"));
  ASSERT_EQ(report->leftovers.size(), 1u);
  EXPECT_EQ(report->leftovers[0].kind, LeftoverKind::layer_link);
  EXPECT_ERRC(m_registry->stat_blob("app", young), Errc::blob_unknown);
}

// Upload sessions: one never published (a killed POST), one half removed (a killed finish), and a
// brand-new one that GC in a tight loop must never touch.
TEST_F(GcLeftoversTest, UnpublishedAndHalfRemovedSessionsGoFreshOnesStay) {
  const std::string killed_post = "11111111-1111-4111-8111-111111111111";
  const std::string killed_finish = "22222222-2222-4222-8222-222222222222";
  write_disk(repo_path("app") / "_uploads" / (".tmp-" + killed_post) / "startedat", "2026-01-01T00:00:00Z");
  write_disk(repo_path("app") / "_uploads" / killed_finish / "hashstates" / "sha256" / "0", "");
  age_everything(2h);
  auto fresh = m_registry->start_upload("app");
  ASSERT_OK(fresh);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(gc());
  }
  EXPECT_FALSE(fs::exists(repo_path("app") / "_uploads" / (".tmp-" + killed_post)));
  EXPECT_FALSE(fs::exists(repo_path("app") / "_uploads" / killed_finish));
  auto status = m_registry->upload_status("app", fresh->id);
  ASSERT_OK(status);
  auto writer = m_registry->append_upload("app", fresh->id, 0);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->write(std::string_view("chunk")));
  EXPECT_OK((*writer)->close());
}

// The upload TTL goes by every clock: a startedat from a host whose clock is far behind does not
// make a session that was appended to just now stale.
TEST_F(GcLeftoversTest, UploadTtlNeverRemovesASessionTheStorageClockCallsYoung) {
  auto upload = m_registry->start_upload("app");
  ASSERT_OK(upload);
  write_disk(repo_path("app") / "_uploads" / upload->id / "startedat", "2001-01-01T00:00:00Z");
  auto report = gc();
  ASSERT_OK(report);
  EXPECT_EQ(report->uploads_removed, 0u);
  EXPECT_OK(m_registry->upload_status("app", upload->id));
}

// A killed tag write or delete leaves a tag directory without its current link: never listed,
// removed by GC once old.
TEST_F(GcLeftoversTest, TagDirectoryWithoutCurrentLinkIsNeverListed) {
  ASSERT_OK(push_image(*m_registry, "app", "v1", ImageSpec("{}", {"l"})));
  write_disk(repo_path("app") / "_manifests" / "tags" / "half" / "current" / ".tmp-x", "sha256:");
  auto page = m_registry->list_tags("app", 100, "");
  ASSERT_OK(page);
  EXPECT_EQ(page->items, std::vector<std::string>{"v1"});
  page = m_registry->list_tags("app", 1, "");
  ASSERT_OK(page);
  EXPECT_EQ(page->items, std::vector<std::string>{"v1"});
  age_everything(2h);
  auto report = gc();
  ASSERT_OK(report);
  EXPECT_FALSE(fs::exists(repo_path("app") / "_manifests" / "tags" / "half"));
  EXPECT_OK(m_registry->get_manifest("app", "v1"));
}

// A GC killed between parking a link and re-checking it: the next run puts back a link whose blob
// is stored, instead of treating it as a temp file.
TEST_F(GcLeftoversTest, ParkedLinkOfAStoredBlobIsPutBack) {
  auto image = push_image(*m_registry, "app", "v1", ImageSpec("{}", {"parked layer"}));
  ASSERT_OK(image);
  Digest layer = digest_of("parked layer");
  fs::rename(layer_dir("app", layer), layer_dir("app", layer).parent_path() / (".tmp-gc-" + layer.hex()));
  age_everything(2h);
  auto dry = find();
  ASSERT_OK(dry);
  ASSERT_EQ(dry->found.size(), 1u);
  EXPECT_FALSE(dry->found[0].removable);
  ASSERT_OK(gc());
  EXPECT_TRUE(fs::exists(layer_dir("app", layer) / "link"));
  EXPECT_OK(m_registry->stat_blob("app", layer));
}

TEST_F(GcLeftoversTest, RepairRemovesOnlyOldLeftoversUnderTheLease) {
  write_disk(v2() / "_gc" / ".tmp-lease", "x");
  age_everything(2h);
  write_disk(v2() / "_gc" / ".tmp-young", "y");
  auto repaired = collect_leftovers(m_storage, {.dry_run = false, .grace = 3600s, .lease_ttl = 600s, .holder = "test"});
  ASSERT_OK(repaired);
  EXPECT_EQ(repaired->removed, 1u);
  EXPECT_FALSE(fs::exists(v2() / "_gc" / ".tmp-lease"));
  EXPECT_TRUE(fs::exists(v2() / "_gc" / ".tmp-young"));
  EXPECT_EQ(leftover_kind_name(repaired->found[0].kind), "temp_file");
}

// A catalog list's write cut short (listing.cc) leaves a temp file under _regd/catalog/, at any
// depth of namespace: found and removed once old, as every temp file.
TEST_F(GcLeftoversTest, CutShortCatalogListWritesGoOnceOld) {
  write_disk(m_dir.path() / "_regd/catalog/.tmp-root", "regd-sorted-repositories 1 ");
  write_disk(m_dir.path() / "_regd/catalog/org/team/.tmp-deep", "regd-sorted-repositories 1 ");
  write_disk(m_dir.path() / "_regd/catalog/org/_list", "regd-sorted-repositories 1 0\n");
  age_everything(2h);
  write_disk(m_dir.path() / "_regd/catalog/org/.tmp-young", "regd");
  auto repaired = collect_leftovers(m_storage, {.dry_run = false, .grace = 3600s, .lease_ttl = 600s, .holder = "test"});
  ASSERT_OK(repaired);
  EXPECT_EQ(repaired->removed, 2u);
  EXPECT_FALSE(fs::exists(m_dir.path() / "_regd/catalog/.tmp-root"));
  EXPECT_FALSE(fs::exists(m_dir.path() / "_regd/catalog/org/team/.tmp-deep"));
  EXPECT_TRUE(fs::exists(m_dir.path() / "_regd/catalog/org/.tmp-young"));
  EXPECT_TRUE(fs::exists(m_dir.path() / "_regd/catalog/org/_list"));
}

}  // namespace
}  // namespace regd::testing
