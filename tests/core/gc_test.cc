#include "regd/gc.h"

#include <gtest/gtest.h>

#include "gc_lease.h"
#include "regd/fault_storage.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

class GcTest : public RegistryTest {
 protected:
  Result<GcReport> gc(GcOptions options = {}) {
    options.grace = m_grace;
    return collect_garbage(m_storage, options);
  }
  // Makes every file in the tree look `age` old, so that it falls outside the grace window.
  void age_everything(std::chrono::seconds age) {
    auto when = std::filesystem::file_time_type::clock::now() - age;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(m_dir.path())) {
      std::filesystem::last_write_time(entry.path(), when);
    }
  }
  bool has_blob(const Digest& digest) const { return std::filesystem::exists(blob_path(digest)); }

  std::chrono::seconds m_grace = 3600s;
};

TEST_F(GcTest, RemovesOnlyUnreferencedOldBlobs) {
  ImageSpec spec("{\"a\":1}", {"layer-one", "layer-two"});
  auto manifest = push_image(*m_registry, "team/app", "v1", spec);
  ASSERT_OK(manifest);
  auto orphan = push_blob(*m_registry, "team/app", "orphan bytes");
  ASSERT_OK(orphan);
  age_everything(2h);

  auto report = gc();
  ASSERT_OK(report);
  EXPECT_EQ(report->blobs_removed, 1u);
  EXPECT_EQ(report->bytes_removed, std::string("orphan bytes").size());
  EXPECT_FALSE(has_blob(*orphan));
  EXPECT_FALSE(std::filesystem::exists(repo_path("team/app") / "_layers/sha256" / orphan->hex()));
  EXPECT_TRUE(has_blob(*manifest));
  EXPECT_TRUE(has_blob(digest_of("layer-one")));
  EXPECT_TRUE(has_blob(digest_of("{\"a\":1}")));
  EXPECT_OK(m_registry->get_manifest("team/app", "v1"));
  EXPECT_OK(m_registry->stat_blob("team/app", digest_of("layer-two")));
  EXPECT_FALSE(std::filesystem::exists(v2() / "_trash" / "run"));
}

TEST_F(GcTest, GraceWindowKeepsYoungBlobs) {
  auto orphan = push_blob(*m_registry, "team/app", "young orphan");
  ASSERT_OK(orphan);
  auto report = gc();
  ASSERT_OK(report);
  EXPECT_EQ(report->blobs_removed, 0u);
  EXPECT_EQ(report->blobs_young, 1u);
  EXPECT_TRUE(has_blob(*orphan));
}

TEST_F(GcTest, DryRunReportsButRemovesNothing) {
  auto orphan = push_blob(*m_registry, "team/app", "orphan");
  ASSERT_OK(orphan);
  age_everything(2h);
  GcOptions options;
  options.dry_run = true;
  auto report = gc(options);
  ASSERT_OK(report);
  ASSERT_EQ(report->removed_blobs.size(), 1u);
  EXPECT_EQ(report->removed_blobs[0].digest, *orphan);
  EXPECT_TRUE(has_blob(*orphan));
  EXPECT_FALSE(std::filesystem::exists(v2() / "_gc" / "lease"));
}

TEST_F(GcTest, UntaggedManifestsStayUnlessAsked) {
  ImageSpec tagged("{\"t\":1}", {"shared", "tagged-only"});
  ImageSpec untagged("{\"u\":1}", {"shared", "untagged-only"});
  ASSERT_OK(push_image(*m_registry, "app", "v1", tagged));
  auto loose = push_image(*m_registry, "app", digest_of(image_manifest(untagged)).str(), untagged);
  ASSERT_OK(loose);
  age_everything(2h);

  auto kept = gc();
  ASSERT_OK(kept);
  EXPECT_EQ(kept->blobs_removed, 0u);
  EXPECT_TRUE(has_blob(digest_of("untagged-only")));

  GcOptions options;
  options.delete_untagged = true;
  auto report = gc(options);
  ASSERT_OK(report);
  EXPECT_EQ(report->manifests_removed, 1u);
  EXPECT_FALSE(has_blob(*loose));
  EXPECT_FALSE(has_blob(digest_of("untagged-only")));
  EXPECT_TRUE(has_blob(digest_of("shared")));
  EXPECT_TRUE(has_blob(digest_of("tagged-only")));
  EXPECT_ERRC(m_registry->get_manifest("app", loose->str()), Errc::manifest_unknown);
  EXPECT_OK(m_registry->get_manifest("app", "v1"));
}

TEST_F(GcTest, DeleteUntaggedKeepsIndexChildrenAndReferrersOfKeptManifests) {
  ImageSpec amd("{\"arch\":\"amd64\"}", {"amd-layer"});
  ImageSpec arm("{\"arch\":\"arm64\"}", {"arm-layer"});
  auto amd_digest = push_image(*m_registry, "multi", digest_of(image_manifest(amd)).str(), amd);
  auto arm_digest = push_image(*m_registry, "multi", digest_of(image_manifest(arm)).str(), arm);
  ASSERT_OK(amd_digest);
  ASSERT_OK(arm_digest);
  std::string index = index_manifest({image_manifest(amd), image_manifest(arm)});
  ASSERT_OK(m_registry->put_manifest("multi", "latest", media_type::oci_index, index));
  ImageSpec signature("{}", {"signature-bytes"});
  signature.subject = digest_of(index);
  signature.artifact_type = "application/example.signature";
  auto sig = push_image(*m_registry, "multi", digest_of(image_manifest(signature)).str(), signature);
  ASSERT_OK(sig);
  age_everything(2h);

  GcOptions options;
  options.delete_untagged = true;
  auto report = gc(options);
  ASSERT_OK(report);
  EXPECT_EQ(report->manifests_removed, 0u);
  EXPECT_EQ(report->blobs_removed, 0u);
  EXPECT_TRUE(has_blob(digest_of("arm-layer")));
  EXPECT_TRUE(has_blob(digest_of("signature-bytes")));
  EXPECT_OK(m_registry->get_manifest("multi", sig->str()));
}

// A manifest that cannot be read confines the damage to its repository: every blob it links is
// kept and reported, while GC goes on elsewhere.
TEST_F(GcTest, FailedManifestReadKeepsItsRepositoryAndCollectsTheRest) {
  ASSERT_OK(push_image(*m_registry, "app", "v1", ImageSpec("{}", {"layer"})));
  auto linked_orphan = push_blob(*m_registry, "app", "orphan");
  ASSERT_OK(linked_orphan);
  auto elsewhere = push_blob(*m_registry, "other", "garbage elsewhere");
  ASSERT_OK(elsewhere);
  age_everything(2h);
  std::shared_ptr<FaultStorage> faulty = make_fault_storage(m_storage);
  faulty->add_rule({StorageOp::read, "/blobs/", 1, true, Errc::io_error});
  GcOptions options;
  options.grace = m_grace;
  auto report = collect_garbage(faulty, options);
  ASSERT_OK(report);
  EXPECT_GT(faulty->injected(), 0u);
  ASSERT_EQ(report->incomplete.size(), 1u);
  EXPECT_EQ(report->incomplete[0].repository, "app");
  EXPECT_NE(report->incomplete[0].reason.find("does not read"), std::string::npos);
  EXPECT_TRUE(has_blob(*linked_orphan));
  EXPECT_TRUE(has_blob(digest_of("layer")));
  EXPECT_FALSE(has_blob(*elsewhere));
  EXPECT_EQ(report->blobs_removed, 1u);
}

// A listing that fails leaves GC nothing to confine the damage to: it stops and deletes nothing.
TEST_F(GcTest, FailedLinkListingDeletesNothing) {
  ASSERT_OK(push_image(*m_registry, "app", "v1", ImageSpec("{}", {"layer"})));
  auto orphan = push_blob(*m_registry, "other", "orphan");
  ASSERT_OK(orphan);
  age_everything(2h);
  std::shared_ptr<FaultStorage> faulty = make_fault_storage(m_storage);
  faulty->add_rule({StorageOp::list, "/_layers", 1, true, Errc::io_error});
  GcOptions options;
  options.grace = m_grace;
  EXPECT_ERRC(collect_garbage(faulty, options), Errc::io_error);
  EXPECT_TRUE(has_blob(*orphan));
  EXPECT_FALSE(std::filesystem::exists(v2() / "_gc" / "lease"));
}

TEST_F(GcTest, OneGcAtATimeUntilTheLeaseExpires) {
  auto held = GcLease::acquire(*m_storage, "other-host", 600s);
  ASSERT_OK(held);
  auto report = gc();
  EXPECT_ERRC(report, Errc::conflict);
  EXPECT_NE(report.error().message.find("other-host"), std::string::npos);
  held->reset();
  EXPECT_OK(gc());

  // A lease whose holder died expires: the next GC takes over.
  write_disk(v2() / "_gc" / "lease", R"({"holder":"dead","token":"x","expires":"2001-01-01T00:00:00Z"})");
  EXPECT_OK(gc());
}

TEST_F(GcTest, PutsBackAnInterruptedRunsTrash) {
  ASSERT_OK(push_image(*m_registry, "app", "v1", ImageSpec("{}", {"precious"})));
  Digest layer = digest_of("precious");
  auto dir = blob_path(layer).parent_path();
  std::filesystem::create_directories(v2() / "_trash" / "run-dead");
  std::filesystem::rename(dir, v2() / "_trash" / "run-dead" / ("sha256-" + layer.hex()));
  ASSERT_FALSE(has_blob(layer));
  ASSERT_OK(gc());
  EXPECT_TRUE(has_blob(layer));
  EXPECT_FALSE(std::filesystem::exists(v2() / "_trash" / "run-dead"));
}

TEST_F(GcTest, PurgesAbandonedUploadsOnly) {
  auto old_upload = m_registry->start_upload("app");
  ASSERT_OK(old_upload);
  age_everything(30 * 24h);
  write_disk(repo_path("app") / "_uploads" / old_upload->id / "startedat", "2001-01-01T00:00:00Z");
  age_everything(30 * 24h);
  auto fresh = m_registry->start_upload("app");
  ASSERT_OK(fresh);
  auto report = gc();
  ASSERT_OK(report);
  EXPECT_EQ(report->uploads_removed, 1u);
  EXPECT_ERRC(m_registry->upload_status("app", old_upload->id), Errc::upload_unknown);
  EXPECT_OK(m_registry->upload_status("app", fresh->id));
}

// A session that never received a byte goes once older than the grace window, long before the
// upload TTL; one holding data of the same age stays until the TTL.
TEST_F(GcTest, PurgesEmptyUploadsAfterTheGraceWindow) {
  auto empty = m_registry->start_upload("app");
  ASSERT_OK(empty);
  auto started = m_registry->start_upload("app");
  ASSERT_OK(started);
  auto writer = m_registry->append_upload("app", started->id, 0);
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->write("some bytes"sv));
  ASSERT_OK((*writer)->close());
  writer->reset();
  for (const auto& id : {empty->id, started->id}) {
    write_disk(repo_path("app") / "_uploads" / id / "startedat", "2001-01-01T00:00:00Z");
  }
  age_everything(2h);
  auto report = gc();
  ASSERT_OK(report);
  EXPECT_EQ(report->uploads_removed, 1u);
  EXPECT_ERRC(m_registry->upload_status("app", empty->id), Errc::upload_unknown);
  EXPECT_OK(m_registry->upload_status("app", started->id));
  EXPECT_FALSE(std::filesystem::exists(repo_path("app") / "_uploads" / empty->id));
}

// An empty session inside the grace window is a client about to send its first chunk.
TEST_F(GcTest, KeepsYoungEmptyUploads) {
  auto empty = m_registry->start_upload("app");
  ASSERT_OK(empty);
  auto report = gc();
  ASSERT_OK(report);
  EXPECT_EQ(report->uploads_removed, 0u);
  EXPECT_OK(m_registry->upload_status("app", empty->id));
}

// A writer that refreshed a link before checking the data exists (as every regd writer does) and
// did so while the sweep ran must find the blob in place afterwards.
TEST_F(GcTest, RestoresABlobAWriterRefreshedDuringTheSweep) {
  auto orphan = push_blob(*m_registry, "app", "about to be mounted");
  ASSERT_OK(orphan);
  auto doomed = push_blob(*m_registry, "app", "really garbage");
  ASSERT_OK(doomed);
  age_everything(2h);
  std::string link = std::string(k_v2) + "/repositories/other/_layers/sha256/" + orphan->hex() + "/link";
  auto hooked = std::make_shared<RenameHookStorage>(m_storage, "_trash", RenameHookStorage::When::after,
                                                    [&] { ASSERT_OK(m_storage->write_file(link, orphan->str())); });
  GcOptions options;
  options.grace = m_grace;
  auto report = collect_garbage(hooked, options);
  ASSERT_OK(report);
  EXPECT_EQ(report->blobs_restored, 1u);
  EXPECT_EQ(report->blobs_removed, 1u);
  EXPECT_TRUE(has_blob(*orphan));
  EXPECT_FALSE(has_blob(*doomed));
  EXPECT_OK(m_registry->stat_blob("other", *orphan));
}

}  // namespace
}  // namespace regd::testing
