#include <algorithm>
#include <mutex>

#include <gtest/gtest.h>

#include "regd/fault_storage.h"
#include "regd/manifest.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class ManifestOps : public RegistryTest {
 protected:
  ImageSpec simple() const { return ImageSpec{R"({"architecture":"amd64"})", {"layer-a", "layer-b"}}; }
};

TEST_F(ManifestOps, PutStoresTheBlobTheRevisionAndTheTag) {
  ImageSpec spec = simple();
  auto digest = push_image(*m_registry, "lib/app", "latest", spec);
  ASSERT_OK(digest);
  std::string content = image_manifest(spec);
  EXPECT_EQ(*digest, digest_of(content));
  EXPECT_EQ(read_disk(blob_path(*digest)), content);
  fs::path manifests = repo_path("lib/app") / "_manifests";
  EXPECT_EQ(read_disk(manifests / "revisions/sha256" / digest->hex() / "link"), digest->str());
  EXPECT_EQ(read_disk(manifests / "tags/latest/current/link"), digest->str());
  EXPECT_EQ(read_disk(manifests / "tags/latest/index/sha256" / digest->hex() / "link"), digest->str());
  for (const std::string& reference : {std::string("latest"), digest->str()}) {
    auto manifest = another_registry()->get_manifest("lib/app", reference);
    ASSERT_OK(manifest);
    EXPECT_EQ(manifest->content, content);
    EXPECT_EQ(manifest->digest, *digest);
    EXPECT_EQ(manifest->media_type, media_type::oci_manifest);
  }
}

TEST_F(ManifestOps, PutByDigestVerifiesItAndWritesNoTag) {
  ImageSpec spec = simple();
  std::string content = image_manifest(spec);
  ASSERT_OK(push_image(*m_registry, "r", digest_of(content).str(), spec));
  EXPECT_FALSE(fs::exists(repo_path("r") / "_manifests/tags"));
  auto wrong = m_registry->put_manifest("r", digest_of("other").str(), media_type::oci_manifest, content);
  EXPECT_ERRC(wrong, Errc::digest_invalid);
  EXPECT_ERRC(m_registry->put_manifest("r", "sha256:short", media_type::oci_manifest, content), Errc::digest_invalid);
}

TEST_F(ManifestOps, AcceptsSha512ManifestDigests) {
  ImageSpec spec = simple();
  std::string content = image_manifest(spec);
  Digest digest = digest_of(content, DigestAlgorithm::sha512);
  auto put = push_image(*m_registry, "r", digest.str(), spec);
  ASSERT_OK(put);
  EXPECT_EQ(*put, digest);
  EXPECT_EQ(read_disk(blob_path(digest)), content);
  EXPECT_EQ(read_disk(repo_path("r") / "_manifests/revisions/sha512" / digest.hex() / "link"), digest.str());
  auto manifest = m_registry->get_manifest("r", digest.str());
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->content, content);
  ASSERT_OK(m_registry->set_tag("r", "v512", digest));
  ASSERT_OK(m_registry->get_manifest("r", "v512"));
}

TEST_F(ManifestOps, RejectsAMissingBlobNamingIt) {
  ImageSpec spec = simple();
  ASSERT_OK(push_blob(*m_registry, "r", spec.config));
  ASSERT_OK(push_blob(*m_registry, "r", "layer-a"));
  ASSERT_OK(push_blob(*m_registry, "elsewhere", "layer-b"));
  auto put = m_registry->put_manifest("r", "latest", media_type::oci_manifest, image_manifest(spec));
  EXPECT_ERRC(put, Errc::manifest_blob_unknown);
  EXPECT_NE(put.error().message.find(digest_of("layer-b").str()), std::string::npos) << put.error().message;
  EXPECT_FALSE(fs::exists(repo_path("r") / "_manifests"));
  EXPECT_ERRC(m_registry->get_manifest("r", "latest"), Errc::manifest_unknown);
}

TEST_F(ManifestOps, RejectsAMissingConfig) {
  ImageSpec spec = simple();
  ASSERT_OK(push_blob(*m_registry, "r", "layer-a"));
  ASSERT_OK(push_blob(*m_registry, "r", "layer-b"));
  auto put = m_registry->put_manifest("r", "latest", media_type::oci_manifest, image_manifest(spec));
  EXPECT_ERRC(put, Errc::manifest_blob_unknown);
  EXPECT_NE(put.error().message.find(digest_of(spec.config).str()), std::string::npos);
}

TEST_F(ManifestOps, TouchesOldLayerLinksItReliesOn) {
  ImageSpec spec = simple();
  ASSERT_OK(push_image(*m_registry, "r", "v1", spec));
  fs::path link = repo_path("r") / "_layers/sha256" / digest_of("layer-a").hex() / "link";
  auto old = fs::last_write_time(link) - std::chrono::hours(3);
  fs::last_write_time(link, old);
  ASSERT_OK(m_registry->put_manifest("r", "v2", media_type::oci_manifest, image_manifest(spec)));
  EXPECT_GT(fs::last_write_time(link), old + std::chrono::hours(2));
}

TEST_F(ManifestOps, RejectsInvalidInput) {
  ImageSpec spec = simple();
  std::string content = image_manifest(spec);
  EXPECT_ERRC(m_registry->put_manifest("r", "latest", media_type::oci_manifest, "{not json"), Errc::manifest_invalid);
  EXPECT_ERRC(m_registry->put_manifest("r", "bad tag", media_type::oci_manifest, content), Errc::tag_invalid);
  EXPECT_ERRC(m_registry->put_manifest("R", "latest", media_type::oci_manifest, content), Errc::name_invalid);
  EXPECT_ERRC(m_registry->put_manifest("r", "latest", media_type::oci_manifest, content, {"ok", "-bad"}),
              Errc::tag_invalid);
  EXPECT_FALSE(fs::exists(repo_path("r")));
}

TEST_F(ManifestOps, RejectsManifestsOverTheLimit) {
  auto registry = make_registry(m_storage, RegistryOptions{64, std::chrono::seconds(600), {}});
  std::string content = image_manifest(ImageSpec{});
  ASSERT_GT(content.size(), 64u);
  EXPECT_ERRC(registry->put_manifest("r", "latest", media_type::oci_manifest, content), Errc::too_large);
}

TEST_F(ManifestOps, WritesEveryExtraTag) {
  ImageSpec spec = simple();
  for (const std::string& blob : {spec.config, spec.layers[0], spec.layers[1]}) {
    ASSERT_OK(push_blob(*m_registry, "r", blob));
  }
  auto put = m_registry->put_manifest("r", "main", "", image_manifest(spec), {"v1", "v1.0"});
  ASSERT_OK(put);
  EXPECT_FALSE(put->subject.has_value());
  for (const char* tag : {"main", "v1", "v1.0"}) {
    auto manifest = m_registry->get_manifest("r", tag);
    ASSERT_OK(manifest);
    EXPECT_EQ(manifest->digest, put->digest);
  }
}

TEST_F(ManifestOps, IndexesNeedTheirChildrenInTheRepository) {
  ImageSpec spec = simple();
  std::string child = image_manifest(spec);
  std::string index = index_manifest({child});
  EXPECT_ERRC(m_registry->put_manifest("r", "multi", media_type::oci_index, index), Errc::manifest_blob_unknown);
  ASSERT_OK(push_image(*m_registry, "r", digest_of(child).str(), spec));
  auto put = m_registry->put_manifest("r", "multi", media_type::oci_index, index);
  ASSERT_OK(put);
  auto manifest = m_registry->get_manifest("r", "multi");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->media_type, media_type::oci_index);
  EXPECT_EQ(manifest->content, index);
}

TEST_F(ManifestOps, KeepsTheDockerMediaType) {
  nlohmann::json doc = {{"schemaVersion", 2},
                        {"mediaType", media_type::docker_manifest},
                        {"config", descriptor_json("application/vnd.docker.container.image.v1+json", "{}")},
                        {"layers", {descriptor_json("application/vnd.docker.image.rootfs.diff.tar.gzip", "l")}}};
  ASSERT_OK(push_blob(*m_registry, "r", "{}"));
  ASSERT_OK(push_blob(*m_registry, "r", "l"));
  ASSERT_OK(m_registry->put_manifest("r", "docker", media_type::docker_manifest, doc.dump()));
  auto manifest = m_registry->get_manifest("r", "docker");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->media_type, media_type::docker_manifest);
}

TEST_F(ManifestOps, ServesASchema1ManifestRegistry2Stored) {
  std::string content = R"({"schemaVersion":1,"name":"r","tag":"old","fsLayers":[],"signatures":[]})";
  Digest digest = digest_of(content);
  write_disk(blob_path(digest), content);
  write_disk(repo_path("r") / "_manifests/revisions/sha256" / digest.hex() / "link", digest.str());
  write_disk(repo_path("r") / "_manifests/tags/old/current/link", digest.str());
  auto manifest = m_registry->get_manifest("r", "old");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->content, content);
  EXPECT_EQ(manifest->media_type, "application/vnd.docker.distribution.manifest.v1+prettyjws");
}

TEST_F(ManifestOps, GetTellsAnUnknownRepositoryFromAnUnknownManifest) {
  EXPECT_ERRC(m_registry->get_manifest("nowhere", "latest"), Errc::name_unknown);
  EXPECT_ERRC(m_registry->get_manifest("nowhere", digest_of("x").str()), Errc::name_unknown);
  ASSERT_OK(push_image(*m_registry, "r", "latest", simple()));
  EXPECT_ERRC(m_registry->get_manifest("r", "missing"), Errc::manifest_unknown);
  EXPECT_ERRC(m_registry->get_manifest("r", digest_of("x").str()), Errc::manifest_unknown);
  EXPECT_ERRC(m_registry->get_manifest("r", "bad tag"), Errc::tag_invalid);
}

TEST_F(ManifestOps, ManifestsAreServedAsBlobsToo) {
  auto digest = push_image(*m_registry, "r", "latest", simple());
  ASSERT_OK(digest);
  auto info = m_registry->stat_blob("r", *digest);
  ASSERT_OK(info);
  EXPECT_EQ(info->size, image_manifest(simple()).size());
  EXPECT_ERRC(m_registry->stat_blob("other", *digest), Errc::blob_unknown);
}

TEST_F(ManifestOps, TheLastTagWriterWins) {
  ImageSpec first = simple();
  ImageSpec second = simple();
  second.layers.push_back("layer-c");
  auto a = push_image(*m_registry, "r", "latest", first);
  auto b = push_image(*m_registry, "r", "latest", second);
  ASSERT_OK(a);
  ASSERT_OK(b);
  auto manifest = m_registry->get_manifest("r", "latest");
  ASSERT_OK(manifest);
  EXPECT_EQ(manifest->digest, *b);
  fs::path index = repo_path("r") / "_manifests/tags/latest/index/sha256";
  EXPECT_TRUE(fs::exists(index / a->hex() / "link"));
  EXPECT_TRUE(fs::exists(index / b->hex() / "link"));
  ASSERT_OK(m_registry->get_manifest("r", a->str()));
}

TEST_F(ManifestOps, DeleteRemovesTheRevisionAndItsTagsOnly) {
  ImageSpec other = simple();
  other.layers.pop_back();
  auto doomed = push_image(*m_registry, "r", "latest", simple());
  auto kept = push_image(*m_registry, "r", "stable", other);
  ASSERT_OK(doomed);
  ASSERT_OK(kept);
  ASSERT_OK(m_registry->set_tag("r", "alias", *doomed));
  ASSERT_OK(m_registry->delete_manifest("r", *doomed));
  EXPECT_FALSE(fs::exists(repo_path("r") / "_manifests/revisions/sha256" / doomed->hex()));
  EXPECT_FALSE(fs::exists(repo_path("r") / "_manifests/tags/latest"));
  EXPECT_FALSE(fs::exists(repo_path("r") / "_manifests/tags/alias"));
  EXPECT_TRUE(fs::exists(blob_path(*doomed)));
  EXPECT_ERRC(m_registry->get_manifest("r", doomed->str()), Errc::manifest_unknown);
  EXPECT_ERRC(m_registry->get_manifest("r", "latest"), Errc::manifest_unknown);
  ASSERT_OK(m_registry->get_manifest("r", "stable"));
  EXPECT_ERRC(m_registry->delete_manifest("r", *doomed), Errc::manifest_unknown);
}

TEST_F(ManifestOps, AFailedTagWriteLeavesTheRevisionUsable) {
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  auto registry = make_registry(faulty);
  ImageSpec spec = simple();
  faulty->add_rule({StorageOp::commit, "/tags/", 1, false, Errc::io_error});
  EXPECT_ERRC(push_image(*registry, "r", "latest", spec), Errc::io_error);
  EXPECT_ERRC(registry->get_manifest("r", "latest"), Errc::manifest_unknown);
  ASSERT_OK(registry->get_manifest("r", digest_of(image_manifest(spec)).str()));
  ASSERT_OK(push_image(*registry, "r", "latest", spec));
  ASSERT_OK(registry->get_manifest("r", "latest"));
}

// A manifest's content is kept in memory by digest, its links are not: once read, GET serves
// the bytes without reading them again, while tags and deletions show at once.
TEST_F(ManifestOps, ContentIsReadOnceLinksEveryTime) {
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  auto registry = make_registry(faulty);
  ImageSpec spec = simple();
  auto digest = push_image(*registry, "r", "latest", spec);
  ASSERT_OK(digest);
  ASSERT_OK(registry->get_manifest("r", "latest"));
  faulty->add_rule({StorageOp::read, "blobs/sha256", 1, true, Errc::io_error});
  auto cached = registry->get_manifest("r", "latest");
  ASSERT_OK(cached);
  EXPECT_EQ(cached->content, image_manifest(spec));
  EXPECT_EQ(cached->media_type, media_type::oci_manifest);
  EXPECT_EQ(faulty->injected(), 0u);
  ASSERT_OK(registry->delete_tag("r", "latest"));
  EXPECT_ERRC(registry->get_manifest("r", "latest"), Errc::manifest_unknown);
  ASSERT_OK(registry->get_manifest("r", digest->str()));
  ASSERT_OK(registry->delete_manifest("r", *digest));
  EXPECT_ERRC(registry->get_manifest("r", digest->str()), Errc::manifest_unknown);

  // Without a cache every GET reads the stored bytes.
  RegistryOptions uncached;
  uncached.manifest_cache_size = 0;
  auto plain = make_registry(faulty, uncached);
  faulty->clear_rules();
  ASSERT_OK(push_image(*plain, "s", "latest", spec));
  ASSERT_OK(plain->get_manifest("s", "latest"));
  faulty->add_rule({StorageOp::read, "blobs/sha256", 1, true, Errc::io_error});
  EXPECT_ERRC(plain->get_manifest("s", "latest"), Errc::io_error);
  EXPECT_GT(faulty->injected(), 0u);
}

// A re-push writes only the tag's current link (its time is the tag's push time): the data,
// revision and index links exist and are right by their paths, so they are only refreshed.
TEST_F(ManifestOps, ARePushWritesOnlyTheCurrentLink) {
  auto faulty = std::shared_ptr<FaultStorage>(make_fault_storage(m_storage));
  std::vector<std::string> created;
  std::mutex mutex;
  faulty->set_hook([&](StorageOp op, const std::string& path) {
    if (op == StorageOp::create) {
      std::lock_guard lock(mutex);
      created.push_back(path);
    }
  });
  auto registry = make_registry(faulty);
  ImageSpec spec = simple();
  auto digest = push_image(*registry, "r", "latest", spec);
  ASSERT_OK(digest);
  auto written = [&](std::string_view part) {
    return std::count_if(created.begin(), created.end(),
                         [&](const std::string& path) { return path.find(part) != std::string::npos; });
  };
  EXPECT_EQ(written("_manifests/revisions/"), 1);
  EXPECT_EQ(written("/current/link"), 1);
  EXPECT_EQ(written("/index/"), 1);
  created.clear();
  auto again = registry->put_manifest("r", "latest", media_type::oci_manifest, image_manifest(spec), {"also"});
  ASSERT_OK(again);
  EXPECT_EQ(again->digest, *digest);
  EXPECT_EQ(written("_manifests/revisions/"), 0);
  EXPECT_EQ(written("blobs/"), 0);
  EXPECT_EQ(written("tags/latest/current/link"), 1);
  EXPECT_EQ(written("tags/latest/index/"), 0);
  EXPECT_EQ(written("tags/also/current/link"), 1);
  EXPECT_EQ(written("tags/also/index/"), 1);
  EXPECT_EQ(read_disk(repo_path("r") / "_manifests/tags/also/index/sha256" / digest->hex() / "link"), digest->str());

  // A revision removed behind the registry's back is written again, not assumed.
  std::filesystem::remove_all(repo_path("r") / "_manifests/revisions/sha256" / digest->hex());
  created.clear();
  ASSERT_OK(registry->put_manifest("r", "latest", media_type::oci_manifest, image_manifest(spec)));
  EXPECT_EQ(written("_manifests/revisions/"), 1);
  EXPECT_EQ(read_disk(repo_path("r") / "_manifests/revisions/sha256" / digest->hex() / "link"), digest->str());
  ASSERT_OK(registry->get_manifest("r", "latest"));
}

}  // namespace
}  // namespace regd::testing
