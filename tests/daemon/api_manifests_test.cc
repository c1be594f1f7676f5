// Manifests: PUT by tag and digest, ?tag=, content types, subject, limits, deletes.
#include "regd_process.h"

namespace regd::testing {
namespace {

using Manifests = RegdTest;

TEST_F(Manifests, PutByTagThenGetByTagAndDigest) {
  auto c = client();
  auto manifest = push_image(c, "img", "v1");
  auto digest = sha256_of(manifest);
  for (std::string ref : {std::string("v1"), digest}) {
    auto r = c.Get(("/v2/img/manifests/" + ref).c_str(), {{"Accept", "application/vnd.oci.image.manifest.v1+json"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, manifest);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(r->get_header_value("Docker-Content-Digest"), digest);
    EXPECT_EQ(r->get_header_value("ETag"), "\"" + digest + "\"");
  }
  auto by_digest = c.Get(("/v2/img/manifests/" + digest).c_str());
  EXPECT_EQ(by_digest->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  auto by_tag = c.Get("/v2/img/manifests/v1");
  EXPECT_EQ(by_tag->get_header_value("Cache-Control"), "");
  auto head = c.Head("/v2/img/manifests/v1");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(manifest.size()));
  EXPECT_EQ(head->get_header_value("Docker-Content-Digest"), digest);
}

TEST_F(Manifests, PutResponseHeaders) {
  auto c = client();
  std::string config = R"({"os":"linux"})";
  push_blob(c, "hdr", config);
  auto manifest = image_manifest(config, {});
  auto r = c.Put("/v2/hdr/manifests/latest", manifest, "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->get_header_value("Location"), "/v2/hdr/manifests/" + sha256_of(manifest));
  EXPECT_EQ(r->get_header_value("Docker-Content-Digest"), sha256_of(manifest));
  EXPECT_EQ(r->get_header_value("OCI-Subject"), "");
}

TEST_F(Manifests, PutByDigestWithTagParameters) {
  auto c = client();
  std::string config = R"({"os":"linux","x":1})";
  push_blob(c, "tagged", config);
  auto manifest = image_manifest(config, {});
  auto digest = sha256_of(manifest);
  auto r = c.Put(("/v2/tagged/manifests/" + digest + "?tag=a&tag=b").c_str(), manifest,
                 "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  for (auto tag : {"a", "b"}) {
    auto get = c.Get((std::string("/v2/tagged/manifests/") + tag).c_str());
    ASSERT_TRUE(get);
    EXPECT_EQ(get->status, 200) << tag;
    EXPECT_EQ(get->get_header_value("Docker-Content-Digest"), digest);
  }
}

TEST_F(Manifests, PutByWrongDigestIsDigestInvalid) {
  auto c = client();
  std::string config = R"({"os":"linux"})";
  push_blob(c, "wrong", config);
  auto r = c.Put(("/v2/wrong/manifests/" + sha256_of("other")).c_str(), image_manifest(config, {}),
                 "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "DIGEST_INVALID");
}

TEST_F(Manifests, MissingBlobIsManifestBlobUnknown) {
  auto c = client();
  auto r =
      c.Put("/v2/missing/manifests/v1", image_manifest("{}", {"layer"}), "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "MANIFEST_BLOB_UNKNOWN");
}

TEST_F(Manifests, InvalidManifestIsManifestInvalid) {
  auto c = client();
  auto r = c.Put("/v2/bad/manifests/v1", "{not json", "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "MANIFEST_INVALID");
}

TEST_F(Manifests, InvalidTagIsTagInvalid) {
  auto c = client();
  auto r = c.Put("/v2/bad/manifests/-tag", "{}", "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "TAG_INVALID");
}

TEST_F(Manifests, DockerMediaTypeIsServedAsStored) {
  auto c = client();
  std::string config = R"({"os":"linux","docker":true})";
  std::string layer = random_bytes(200, 4);
  push_blob(c, "docker", config);
  push_blob(c, "docker", layer);
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                      {"config", descriptor("application/vnd.docker.container.image.v1+json", config)},
                      {"layers", {descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", layer)}}};
  auto body = m.dump();
  auto put = c.Put("/v2/docker/manifests/latest", body, "application/vnd.docker.distribution.manifest.v2+json");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 201) << put->body;
  auto get = c.Get("/v2/docker/manifests/latest", {{"Accept",
                                                    "application/vnd.docker.distribution.manifest.v2+json, "
                                                    "application/vnd.oci.image.manifest.v1+json"}});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->get_header_value("Content-Type"), "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(get->body, body);
}

TEST_F(Manifests, ImageIndexReferencingManifests) {
  auto c = client();
  auto a = push_image(c, "multi", "amd64", 1);
  auto b = push_image(c, "multi", "arm64", 2);
  nlohmann::json index = {{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.index.v1+json"},
                          {"manifests",
                           {descriptor("application/vnd.oci.image.manifest.v1+json", a),
                            descriptor("application/vnd.oci.image.manifest.v1+json", b)}}};
  auto put = c.Put("/v2/multi/manifests/latest", index.dump(), "application/vnd.oci.image.index.v1+json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201) << put->body;
  auto get = c.Get("/v2/multi/manifests/latest");
  EXPECT_EQ(get->get_header_value("Content-Type"), "application/vnd.oci.image.index.v1+json");
}

TEST_F(Manifests, SubjectIsEchoedInOciSubject) {
  auto c = client();
  auto subject = push_image(c, "sig", "v1");
  nlohmann::json extra = {{"subject", descriptor("application/vnd.oci.image.manifest.v1+json", subject)}};
  std::string config = R"({"os":"linux","sig":1})";
  push_blob(c, "sig", config);
  auto referrer = image_manifest(config, {}, extra);
  auto r = c.Put(("/v2/sig/manifests/" + sha256_of(referrer)).c_str(), referrer,
                 "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(r->get_header_value("OCI-Subject"), sha256_of(subject));
}

TEST_F(Manifests, OverTheLimitIs413) {
  auto c = client();
  std::string big = R"({"schemaVersion":2,"pad":")" + std::string(4 * 1024 * 1024, 'a') + "\"}";
  auto r = c.Put("/v2/big/manifests/v1", big, "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_code(r->body), "SIZE_INVALID");
}

TEST_F(Manifests, UnknownManifestIsManifestUnknown) {
  auto c = client();
  push_image(c, "known", "v1");
  for (std::string ref : {std::string("v2"), sha256_of("none")}) {
    auto r = c.Get(("/v2/known/manifests/" + ref).c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(error_code(r->body), "MANIFEST_UNKNOWN") << r->body;
  }
  auto unknown_repo = c.Get("/v2/nothing/here/manifests/v1");
  ASSERT_TRUE(unknown_repo);
  EXPECT_EQ(unknown_repo->status, 404);
}

TEST_F(Manifests, IfNoneMatchIsNotModified) {
  auto c = client();
  auto digest = sha256_of(push_image(c, "etag", "v1"));
  auto r = c.Get("/v2/etag/manifests/v1", {{"If-None-Match", "\"" + digest + "\""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_TRUE(r->body.empty());
}

TEST_F(Manifests, DeleteTagKeepsTheManifest) {
  auto c = client();
  auto digest = sha256_of(push_image(c, "deltag", "v1"));
  auto r = c.Delete("/v2/deltag/manifests/v1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(c.Get("/v2/deltag/manifests/v1")->status, 404);
  EXPECT_EQ(c.Get(("/v2/deltag/manifests/" + digest).c_str())->status, 200);
  EXPECT_EQ(c.Delete("/v2/deltag/manifests/v1")->status, 404);
}

TEST_F(Manifests, DeleteByDigestRemovesManifestAndTags) {
  auto c = client();
  auto digest = sha256_of(push_image(c, "delman", "v1"));
  auto r = c.Delete(("/v2/delman/manifests/" + digest).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(c.Get(("/v2/delman/manifests/" + digest).c_str())->status, 404);
  EXPECT_EQ(c.Get("/v2/delman/manifests/v1")->status, 404);
  auto again = c.Delete(("/v2/delman/manifests/" + digest).c_str());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
  EXPECT_EQ(error_code(again->body), "MANIFEST_UNKNOWN");
}

}  // namespace
}  // namespace regd::testing
