// Crash points along the blob paths: monolithic put, mount (with and without a source
// repository) and delete (crash_point_util.h runs each path for every N).
#include <gtest/gtest.h>

#include "crash_point_util.h"

namespace regd::testing {
namespace {

constexpr std::string_view k_other = "team/other";
const std::string k_blob = "a monolithic blob, pushed in one request";
// An image of the other repository, whose layer gets mounted into k_repo.
const ImageSpec k_source("{\"image\":\"source\"}", {"the layer to mount"});

struct BlobState {};

BlobState base_and_source(Registry& registry, Storage&) {
  push_base(registry);
  must(push_image(registry, k_other, "v1", k_source), "push source image");
  return {};
}

void expect_source(Registry& registry) {
  expect_manifest(registry, k_other, "v1", image_manifest(k_source));
  expect_image_blobs(registry, k_other, k_source);
}

TEST(CrashPoints, PutBlob) {
  CrashScenario<BlobState> scenario;
  scenario.setup = [](Registry& registry, Storage&) {
    push_base(registry);
    return BlobState{};
  };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&) -> Status {
    auto pushed = push_blob(registry, k_repo, k_blob);
    return pushed ? Status{} : Status(std::unexpected(pushed.error()));
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&, bool completed) {
    expect_base(registry);
    auto blob = served_blob(registry, k_repo, k_blob);
    if (completed) {
      EXPECT_EQ(blob, k_blob);
    }
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, BlobState&) {
    EXPECT_OK(push_blob(registry, k_repo, k_blob));
  };
  scenario.check_new = [](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&) {
    expect_base(registry);
    expect_blob(registry, k_repo, k_blob);
  };
  run_crash_points(scenario);
}

void run_mount(std::optional<std::string_view> from) {
  const std::string& layer = k_source.layers[0];
  CrashScenario<BlobState> scenario;
  scenario.setup = base_and_source;
  scenario.write = [from, layer](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&) -> Status {
    auto mounted = registry.mount_blob(k_repo, digest_of(layer), from);
    return mounted ? Status{} : Status(std::unexpected(mounted.error()));
  };
  scenario.check_readers = [layer](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&,
                                   bool completed) {
    expect_base(registry);
    expect_source(registry);
    auto blob = served_blob(registry, k_repo, layer);
    if (completed) {
      EXPECT_EQ(blob, layer);
    }
  };
  scenario.repush = [from, layer](Registry& registry, const std::shared_ptr<Storage>&, BlobState&) {
    auto mounted = registry.mount_blob(k_repo, digest_of(layer), from);
    ASSERT_OK(mounted);
    EXPECT_EQ(mounted->digest, digest_of(layer));
    EXPECT_EQ(mounted->size, layer.size());
  };
  scenario.check_new = [layer](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&) {
    expect_base(registry);
    expect_source(registry);
    expect_blob(registry, k_repo, layer);
  };
  run_crash_points(scenario);
}

TEST(CrashPoints, MountBlobFromARepository) {
  run_mount(k_other);
}

TEST(CrashPoints, MountBlobFromAnywhere) {
  run_mount(std::nullopt);
}

TEST(CrashPoints, DeleteBlob) {
  CrashScenario<BlobState> scenario;
  scenario.setup = [](Registry& registry, Storage&) {
    push_base(registry);
    must(push_blob(registry, k_repo, k_blob), "push blob");
    return BlobState{};
  };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&) {
    return registry.delete_blob(k_repo, digest_of(k_blob));
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&, bool completed) {
    expect_base(registry);
    auto blob = served_blob(registry, k_repo, k_blob);
    if (completed) {
      EXPECT_EQ(blob, std::nullopt);
    }
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, BlobState&) {
    // GC has collected the old unreferenced blob meanwhile, or the delete went through.
    EXPECT_ERRC(registry.delete_blob(k_repo, digest_of(k_blob)), Errc::blob_unknown);
  };
  scenario.check_new = [](Registry& registry, const std::shared_ptr<Storage>&, const BlobState&) {
    expect_base(registry);
    EXPECT_EQ(served_blob(registry, k_repo, k_blob), std::nullopt);
  };
  run_crash_points(scenario);
}

}  // namespace
}  // namespace regd::testing
