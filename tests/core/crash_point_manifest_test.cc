// Crash points along the manifest and tag paths: a manifest PUT with several tags, a PUT with a
// subject (referrers), tag set (moving and new), tag delete, manifest delete
// (crash_point_util.h runs each path for every N).
#include <gtest/gtest.h>

#include "crash_point_util.h"

namespace regd::testing {
namespace {

// The new image: one layer shared with the base image, one of its own.
const ImageSpec k_image("{\"image\":\"new\"}", {"base layer one", "a layer of the new image"});

ImageSpec referrer_spec() {
  ImageSpec spec("{}", {"signature bytes"});
  spec.subject = digest_of(base_manifest());
  spec.subject_size = base_manifest().size();
  spec.artifact_type = "application/vnd.example.signature";
  return spec;
}

struct ManifestState {};

std::string digest_ref(const ImageSpec& spec) {
  return digest_of(image_manifest(spec)).str();
}

Status put(Registry& registry, std::string_view reference, const ImageSpec& spec,
           const std::vector<std::string>& tags = {}) {
  auto put = registry.put_manifest(k_repo, reference, media_type::oci_manifest, image_manifest(spec), tags);
  return put ? Status{} : Status(std::unexpected(put.error()));
}

// The referrers of the base image: none, or exactly the referrer's descriptor.
std::vector<Digest> base_referrers(Registry& registry) {
  auto listed = registry.list_referrers(k_repo, digest_of(base_manifest()), std::nullopt);
  EXPECT_TRUE(listed.has_value()) << (listed ? "" : listed.error().message);
  std::vector<Digest> digests;
  for (const Descriptor& descriptor : listed ? *listed : std::vector<Descriptor>{}) {
    digests.push_back(descriptor.digest);
  }
  return digests;
}

TEST(CrashPoints, PutManifestWithSeveralTags) {
  const std::string old_manifest = base_manifest();
  const std::string manifest = image_manifest(k_image);
  CrashScenario<ManifestState> scenario;
  scenario.setup = [](Registry& registry, Storage&) {
    push_base(registry);
    must(registry.set_tag(k_repo, "latest", digest_of(base_manifest())), "tag latest");
    for (const std::string& blob : k_image.layers) {
      must(push_blob(registry, k_repo, blob), "push layer");
    }
    must(push_blob(registry, k_repo, k_image.config), "push config");
    return ManifestState{};
  };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    return put(registry, "v2", k_image, {"latest", "v3"});
  };
  scenario.check_readers = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&,
                               bool completed) {
    expect_base(registry);
    expect_manifest_in(registry, k_repo, "latest", completed ? Allowed{manifest} : Allowed{old_manifest, manifest});
    const Allowed fresh = completed ? Allowed{manifest} : Allowed{std::nullopt, manifest};
    for (const std::string& reference : {std::string("v2"), std::string("v3"), digest_ref(k_image)}) {
      expect_manifest_in(registry, k_repo, reference, fresh);
    }
    expect_tags_consistent(registry, k_repo, {"v1", "latest", "v2", "v3"});
    expect_image_blobs(registry, k_repo, k_image);
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, ManifestState&) {
    expect_pushed_blobs(registry, k_repo, k_image);
    EXPECT_OK(put(registry, "v2", k_image, {"latest", "v3"}));
  };
  scenario.check_new = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    expect_base(registry);
    for (const std::string& reference :
         {std::string("latest"), std::string("v2"), std::string("v3"), digest_ref(k_image)}) {
      expect_manifest(registry, k_repo, reference, manifest);
    }
    EXPECT_EQ(expect_tags_consistent(registry, k_repo, {"v1", "latest", "v2", "v3"}),
              (std::set<std::string>{"latest", "v1", "v2", "v3"}));
    expect_image_blobs(registry, k_repo, k_image);
  };
  run_crash_points(scenario);
}

TEST(CrashPoints, PutManifestWithASubject) {
  const ImageSpec spec = referrer_spec();
  const std::string manifest = image_manifest(spec);
  CrashScenario<ManifestState> scenario;
  scenario.setup = [spec](Registry& registry, Storage&) {
    push_base(registry);
    for (const std::string& blob : spec.layers) {
      must(push_blob(registry, k_repo, blob), "push layer");
    }
    must(push_blob(registry, k_repo, spec.config), "push config");
    return ManifestState{};
  };
  scenario.write = [spec](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    return put(registry, digest_ref(spec), spec);
  };
  scenario.check_readers = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&,
                               bool completed) {
    expect_base(registry);
    auto served = served_manifest(registry, k_repo, digest_ref(spec));
    if (served || completed) {
      EXPECT_EQ(served, manifest);
    }
    // The referrers list shows the manifest exactly when it is stored.
    EXPECT_EQ(base_referrers(registry), served ? std::vector<Digest>{digest_of(manifest)} : std::vector<Digest>{});
  };
  scenario.repush = [spec](Registry& registry, const std::shared_ptr<Storage>&, ManifestState&) {
    expect_pushed_blobs(registry, k_repo, spec);
    EXPECT_OK(put(registry, digest_ref(spec), spec));
  };
  scenario.check_new = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    expect_base(registry);
    expect_manifest(registry, k_repo, digest_ref(spec), manifest);
    auto listed = registry.list_referrers(k_repo, digest_of(base_manifest()), std::nullopt);
    ASSERT_OK(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].digest, digest_of(manifest));
    EXPECT_EQ((*listed)[0].size, manifest.size());
    EXPECT_EQ((*listed)[0].media_type, media_type::oci_manifest);
    EXPECT_EQ((*listed)[0].artifact_type, spec.artifact_type);
    expect_image_blobs(registry, k_repo, spec);
  };
  run_crash_points(scenario);
}

// set_tag of `tag`, which points at the base image in the old state when `moving`.
void run_set_tag(const std::string& tag, bool moving) {
  const std::string manifest = image_manifest(k_image);
  const std::optional<std::string> before = moving ? std::optional<std::string>(base_manifest()) : std::nullopt;
  CrashScenario<ManifestState> scenario;
  scenario.setup = [=](Registry& registry, Storage&) {
    push_base(registry);
    must(push_image(registry, k_repo, digest_ref(k_image), k_image), "push untagged image");
    if (moving) {
      must(registry.set_tag(k_repo, tag, digest_of(base_manifest())), "tag");
    }
    return ManifestState{};
  };
  scenario.write = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    return registry.set_tag(k_repo, tag, digest_of(manifest));
  };
  scenario.check_readers = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&,
                               bool completed) {
    expect_base(registry);
    expect_manifest(registry, k_repo, digest_ref(k_image), manifest);
    expect_manifest_in(registry, k_repo, tag, completed ? Allowed{manifest} : Allowed{before, manifest});
    expect_tags_consistent(registry, k_repo, {"v1", tag});
  };
  scenario.repush = [=](Registry& registry, const std::shared_ptr<Storage>&, ManifestState&) {
    EXPECT_OK(registry.set_tag(k_repo, tag, digest_of(manifest)));
  };
  scenario.check_new = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    expect_base(registry);
    expect_manifest(registry, k_repo, tag, manifest);
    EXPECT_EQ(expect_tags_consistent(registry, k_repo, {"v1", tag}), (std::set<std::string>{"v1", tag}));
    expect_image_blobs(registry, k_repo, k_image);
  };
  run_crash_points(scenario);
}

TEST(CrashPoints, SetTagMovesATag) {
  run_set_tag("moving", true);
}

TEST(CrashPoints, SetTagCreatesATag) {
  run_set_tag("fresh", false);
}

TEST(CrashPoints, DeleteTag) {
  CrashScenario<ManifestState> scenario;
  scenario.setup = [](Registry& registry, Storage&) {
    push_base(registry);
    must(registry.set_tag(k_repo, "old", digest_of(base_manifest())), "tag old");
    return ManifestState{};
  };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    return registry.delete_tag(k_repo, "old");
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&,
                              bool completed) {
    expect_base(registry);
    expect_manifest_in(registry, k_repo, "old",
                       completed ? Allowed{std::nullopt} : Allowed{std::nullopt, base_manifest()});
    expect_tags_consistent(registry, k_repo, {"v1", "old"});
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, ManifestState&) {
    if (registry.get_manifest(k_repo, "old")) {
      EXPECT_OK(registry.delete_tag(k_repo, "old"));
    } else {
      EXPECT_ERRC(registry.delete_tag(k_repo, "old"), Errc::manifest_unknown);
    }
  };
  scenario.check_new = [](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    expect_base(registry);
    EXPECT_EQ(served_manifest(registry, k_repo, "old"), std::nullopt);
    EXPECT_EQ(expect_tags_consistent(registry, k_repo, {"v1", "old"}), (std::set<std::string>{"v1"}));
  };
  run_crash_points(scenario);
}

TEST(CrashPoints, DeleteManifest) {
  // The manifest deleted is a referrer of the base image with two tags.
  const ImageSpec spec = referrer_spec();
  const std::string manifest = image_manifest(spec);
  const std::set<std::string> tags = {"v1", "sig", "sig-too"};
  CrashScenario<ManifestState> scenario;
  scenario.setup = [spec](Registry& registry, Storage&) {
    push_base(registry);
    must(push_image(registry, k_repo, "sig", spec), "push referrer");
    must(registry.set_tag(k_repo, "sig-too", digest_of(image_manifest(spec))), "tag");
    return ManifestState{};
  };
  scenario.write = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    return registry.delete_manifest(k_repo, digest_of(manifest));
  };
  scenario.check_readers = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&,
                               bool completed) {
    expect_base(registry);
    const Allowed allowed = completed ? Allowed{std::nullopt} : Allowed{std::nullopt, manifest};
    auto served = served_manifest(registry, k_repo, digest_ref(spec));
    EXPECT_TRUE(std::find(allowed.begin(), allowed.end(), served) != allowed.end());
    expect_manifest_in(registry, k_repo, "sig", allowed);
    expect_manifest_in(registry, k_repo, "sig-too", allowed);
    expect_tags_consistent(registry, k_repo, tags);
    // Listed only while stored.
    auto referrers = base_referrers(registry);
    EXPECT_LE(referrers.size(), served ? 1u : 0u);
    for (const Digest& referrer : referrers) {
      EXPECT_EQ(referrer, digest_of(manifest));
    }
  };
  scenario.repush = [=](Registry& registry, const std::shared_ptr<Storage>&, ManifestState&) {
    if (registry.get_manifest(k_repo, digest_ref(spec))) {
      EXPECT_OK(registry.delete_manifest(k_repo, digest_of(manifest)));
    } else {
      EXPECT_ERRC(registry.delete_manifest(k_repo, digest_of(manifest)), Errc::manifest_unknown);
    }
  };
  scenario.check_new = [=](Registry& registry, const std::shared_ptr<Storage>&, const ManifestState&) {
    expect_base(registry);
    for (const std::string& reference : {std::string("sig"), std::string("sig-too"), digest_ref(spec)}) {
      EXPECT_EQ(served_manifest(registry, k_repo, reference), std::nullopt) << reference;
    }
    EXPECT_EQ(expect_tags_consistent(registry, k_repo, tags), (std::set<std::string>{"v1"}));
    EXPECT_TRUE(base_referrers(registry).empty());
  };
  run_crash_points(scenario);
}

}  // namespace
}  // namespace regd::testing
