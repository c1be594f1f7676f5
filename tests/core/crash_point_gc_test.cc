// Crash points along a garbage collection run (lease, mark, trash, re-check, delete, upload
// purge, leftovers): after a crash at any N, the next GC recovers the run's trash and succeeds,
// and nothing acknowledged is lost (crash_point_util.h runs the run for every N).
#include <gtest/gtest.h>

#include "crash_point_util.h"

namespace regd::testing {
namespace {

// An untagged image (collected: the runs delete untagged manifests), two orphan blobs and an
// abandoned upload session are the garbage; the base image stays.
const ImageSpec k_untagged("{\"image\":\"untagged\"}", {"a layer only the untagged image has"});
const std::vector<std::string> k_orphans = {"orphan blob one", "orphan blob two"};
const std::string k_abandoned = "an upload nobody finished";

struct GcState {
  std::string upload_id;
};

GcOptions gc_options(std::chrono::seconds lease_ttl) {
  GcOptions options;
  options.delete_untagged = true;
  options.grace = 1h;
  options.upload_ttl = 1h;  // the abandoned session is k_age old by every clock
  options.lease_ttl = lease_ttl;
  options.holder = "crash-test";
  return options;
}

GcState garbage(Registry& registry, Storage& storage) {
  push_base(registry);
  must(push_image(registry, k_repo, digest_of(image_manifest(k_untagged)).str(), k_untagged), "push untagged");
  for (const std::string& orphan : k_orphans) {
    must(push_blob(registry, k_repo, orphan), "push orphan");
  }
  auto started = must(registry.start_upload(k_repo), "start upload");
  auto writer = must(registry.append_upload(k_repo, started.id, 0), "append");
  must(writer->write(std::string_view(k_abandoned)), "write");
  must(writer->close(), "close");
  // Started two days ago (startedat is the session's clock; the tree's mtimes are aged apart).
  std::string started_at =
      std::string(k_v2) + "/repositories/" + std::string(k_repo) + "/_uploads/" + started.id + "/startedat";
  must(storage.write_file(started_at, "2001-01-01T00:00:00Z"), "age startedat");
  return {started.id};
}

// Everything the garbage is made of: absent, or exactly as pushed.
std::vector<std::string> garbage_blobs() {
  std::vector<std::string> blobs = k_orphans;
  blobs.insert(blobs.end(), k_untagged.layers.begin(), k_untagged.layers.end());
  blobs.push_back(k_untagged.config);
  return blobs;
}

bool exists(Storage& storage, const std::string& path) {
  auto info = storage.stat(path);
  EXPECT_TRUE(info || info.error().code == Errc::not_found) << path << ": " << info.error().message;
  return info.has_value();
}

void expect_collected(Registry& registry, const std::shared_ptr<Storage>& storage, const GcState& state) {
  expect_base(registry);
  EXPECT_EQ(served_manifest(registry, k_repo, digest_of(image_manifest(k_untagged)).str()), std::nullopt);
  for (const std::string& blob : garbage_blobs()) {
    EXPECT_EQ(served_blob(registry, k_repo, blob), std::nullopt);
    EXPECT_FALSE(make_inspector(storage)->blob_size(digest_of(blob))) << "not collected: " << blob;
  }
  EXPECT_ERRC(registry.upload_status(k_repo, state.upload_id), Errc::upload_unknown);
  auto trashed = storage->list(std::string(k_v2) + "/_trash", [](const DirEntry& entry) -> Status {
    ADD_FAILURE() << "trash left: " << entry.name;
    return {};
  });
  EXPECT_TRUE(trashed || trashed.error().code == Errc::not_found);
  EXPECT_FALSE(exists(*storage, std::string(k_v2) + "/_gc/lease")) << "lease left";
}

TEST(CrashPoints, GarbageCollection) {
  // The crashing runs hold a short lease, so that the next run may take over soon.
  constexpr auto k_lease = 2s;
  CrashScenario<GcState> scenario;
  scenario.setup = garbage;
  scenario.write = [](Registry&, const std::shared_ptr<Storage>& storage, const GcState&) -> Status {
    auto report = collect_garbage(storage, gc_options(k_lease));
    return report ? Status{} : Status(std::unexpected(report.error()));
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>& storage, const GcState& state,
                              bool completed) {
    if (completed) {
      return expect_collected(registry, storage, state);
    }
    // Whatever the run had done: the base image whole, the garbage absent or exact.
    expect_base(registry);
    expect_tags_consistent(registry, k_repo, {"v1"});
    expect_manifest_in(registry, k_repo, digest_of(image_manifest(k_untagged)).str(),
                       {std::nullopt, image_manifest(k_untagged)});
    for (const std::string& blob : garbage_blobs()) {
      (void)served_blob(registry, k_repo, blob);
    }
    auto status = registry.upload_status(k_repo, state.upload_id);
    if (status) {
      EXPECT_EQ(status->size, k_abandoned.size());
    } else {
      EXPECT_EQ(errc_name(status.error().code), errc_name(Errc::upload_unknown)) << status.error().message;
    }
  };
  // The run after the crash: takes over the expired lease, recovers the trash, collects.
  scenario.gc = gc_options(600s);
  scenario.settle = k_lease + 2s;
  scenario.repush = [](Registry&, const std::shared_ptr<Storage>& storage, GcState&) {
    auto report = collect_garbage(storage, gc_options(600s));
    ASSERT_OK(report);
    EXPECT_EQ(report->blobs_removed, 0u) << "the previous run left garbage";
    EXPECT_EQ(report->manifests_removed, 0u);
    EXPECT_EQ(report->uploads_removed, 0u);
    EXPECT_TRUE(report->incomplete.empty());
  };
  scenario.check_new = expect_collected;
  run_crash_points(scenario);
}

}  // namespace
}  // namespace regd::testing
