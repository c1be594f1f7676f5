#include "regd/manifest.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace regd {
namespace {

const std::string k_config = "sha256:" + std::string(64, 'c');
const std::string k_layer1 = "sha256:" + std::string(64, '1');
const std::string k_layer2 = "sha256:" + std::string(64, '2');
const std::string k_child = "sha256:" + std::string(64, 'd');
const std::string k_subject = "sha256:" + std::string(64, 'e');

std::string oci_image() {
  return R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": ")" +
         k_config + R"(",
    "size": 7023
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": ")" +
         k_layer1 + R"(",
      "size": 32654
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": ")" +
         k_layer2 + R"(",
      "size": 16724,
      "annotations": {"org.example.layer": "two"}
    }
  ],
  "annotations": {"com.example.key1": "value1"}
})";
}

std::string oci_index() {
  return R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": ")" +
         k_child + R"(",
      "size": 7143,
      "platform": {"architecture": "amd64", "os": "linux"}
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": ")" +
         k_layer1 + R"(",
      "size": 500,
      "artifactType": "application/vnd.example.sbom",
      "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}
    }
  ]
})";
}

std::string docker_manifest() {
  return R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1469,
      "digest": ")" +
         k_config + R"("
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 2814446,
         "digest": ")" +
         k_layer1 + R"("
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
         "size": 1000,
         "digest": ")" +
         k_layer2 + R"(",
         "urls": ["https://example.invalid/layer"]
      }
   ]
})";
}

std::string docker_list() {
  return R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "size": 528,
      "digest": ")" +
         k_child + R"(",
      "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}
    }
  ]
})";
}

std::string artifact_with_subject() {
  return R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.signature",
  "config": {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "size": 2,
    "data": "e30="
  },
  "layers": [],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": ")" +
         k_subject + R"(",
    "size": 1234
  }
})";
}

TEST(Manifest, ParsesAnOciImageManifest) {
  auto parsed = parse_manifest("application/vnd.oci.image.manifest.v1+json", oci_image());
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->kind, ManifestKind::image);
  EXPECT_EQ(parsed->media_type, media_type::oci_manifest);
  ASSERT_TRUE(parsed->config);
  EXPECT_EQ(parsed->config->digest.str(), k_config);
  EXPECT_EQ(parsed->config->size, 7023u);
  EXPECT_EQ(parsed->config->media_type, "application/vnd.oci.image.config.v1+json");
  ASSERT_EQ(parsed->layers.size(), 2u);
  EXPECT_EQ(parsed->layers[0].digest.str(), k_layer1);
  EXPECT_EQ(parsed->layers[1].size, 16724u);
  EXPECT_EQ(parsed->layers[1].annotations.at("org.example.layer"), "two");
  EXPECT_TRUE(parsed->manifests.empty());
  EXPECT_FALSE(parsed->subject);
  // An image is no artifact (image-spec, "Guidelines for Artifact Usage"); the referrers API
  // still reports its config media type.
  EXPECT_EQ(parsed->artifact_type, "");
  EXPECT_EQ(artifact_type_of(*parsed), "");
  EXPECT_EQ(referrer_artifact_type(*parsed), "application/vnd.oci.image.config.v1+json");
  EXPECT_EQ(parsed->annotations.at("com.example.key1"), "value1");
}

TEST(Manifest, ParsesAnOciIndex) {
  auto parsed = parse_manifest("application/vnd.oci.image.index.v1+json", oci_index());
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->kind, ManifestKind::index);
  EXPECT_EQ(parsed->media_type, media_type::oci_index);
  EXPECT_FALSE(parsed->config);
  EXPECT_TRUE(parsed->layers.empty());
  ASSERT_EQ(parsed->manifests.size(), 2u);
  EXPECT_EQ(parsed->manifests[0].digest.str(), k_child);
  EXPECT_EQ(parsed->manifests[1].artifact_type, "application/vnd.example.sbom");
  EXPECT_EQ(parsed->manifests[1].annotations.size(), 1u);
  EXPECT_EQ(parsed->artifact_type, "");
}

TEST(Manifest, ParsesDockerSchema2AndForeignLayers) {
  auto parsed = parse_manifest("application/vnd.docker.distribution.manifest.v2+json", docker_manifest());
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->kind, ManifestKind::image);
  EXPECT_EQ(parsed->media_type, media_type::docker_manifest);
  ASSERT_EQ(parsed->layers.size(), 2u);
  EXPECT_FALSE(is_foreign_layer(parsed->layers[0]));
  EXPECT_TRUE(is_foreign_layer(parsed->layers[1]));
  EXPECT_EQ(artifact_type_of(*parsed), "");
  EXPECT_EQ(referrer_artifact_type(*parsed), "application/vnd.docker.container.image.v1+json");
}

TEST(Manifest, ParsesADockerManifestList) {
  auto parsed = parse_manifest("", docker_list());
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->kind, ManifestKind::index);
  EXPECT_EQ(parsed->media_type, media_type::docker_list);
  ASSERT_EQ(parsed->manifests.size(), 1u);
  EXPECT_EQ(parsed->manifests[0].media_type, media_type::docker_manifest);
}

TEST(Manifest, ParsesAnArtifactWithSubject) {
  auto parsed = parse_manifest("application/vnd.oci.image.manifest.v1+json", artifact_with_subject());
  ASSERT_OK(parsed);
  EXPECT_TRUE(parsed->layers.empty());
  ASSERT_TRUE(parsed->subject);
  EXPECT_EQ(parsed->subject->digest.str(), k_subject);
  EXPECT_EQ(parsed->subject->size, 1234u);
  EXPECT_EQ(parsed->artifact_type, "application/vnd.example.signature");
  EXPECT_EQ(artifact_type_of(*parsed), "application/vnd.example.signature");
  EXPECT_EQ(parsed->config->media_type, media_type::oci_empty);
}

TEST(Manifest, AnArtifactWithoutArtifactTypeIsTypedByItsConfig) {
  auto doc = nlohmann::json::parse(artifact_with_subject());
  doc.erase("artifactType");
  doc["config"]["mediaType"] = "application/vnd.example.helm.config.v1+json";
  auto parsed = parse_manifest("", doc.dump());
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->artifact_type, "");
  EXPECT_EQ(artifact_type_of(*parsed), "application/vnd.example.helm.config.v1+json");
  EXPECT_EQ(referrer_artifact_type(*parsed), "application/vnd.example.helm.config.v1+json");
}

TEST(Manifest, NonDistributableLayersAreForeign) {
  Descriptor layer{"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", digest_of("x"), 1, {}, {}};
  EXPECT_TRUE(is_foreign_layer(layer));
  layer.media_type = "application/vnd.oci.image.layer.v1.tar";
  EXPECT_FALSE(is_foreign_layer(layer));
}

TEST(Manifest, InfersTheTypeFromTheBodyWhenTheContentTypeIsGeneric) {
  for (std::string content_type : {"", "application/json", "application/octet-stream", "text/plain"}) {
    auto image = parse_manifest(content_type, oci_image());
    ASSERT_OK(image);
    EXPECT_EQ(image->media_type, media_type::oci_manifest);
    auto list = parse_manifest(content_type, docker_list());
    ASSERT_OK(list);
    EXPECT_EQ(list->media_type, media_type::docker_list);
  }
  // No mediaType field at all: the structure decides.
  auto image = parse_manifest(
      "", R"({"schemaVersion":2,"config":{"mediaType":"a/b","digest":")" + k_config + R"(","size":1},"layers":[]})");
  ASSERT_OK(image);
  EXPECT_EQ(image->media_type, media_type::oci_manifest);
  auto index = parse_manifest("", R"({"schemaVersion":2,"manifests":[]})");
  ASSERT_OK(index);
  EXPECT_EQ(index->media_type, media_type::oci_index);
  EXPECT_EQ(index->kind, ManifestKind::index);
}

TEST(Manifest, ContentTypeParametersAndCaseAreIgnored) {
  auto parsed = parse_manifest("Application/VND.oci.image.manifest.v1+json; charset=utf-8", oci_image());
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->media_type, media_type::oci_manifest);
}

TEST(Manifest, ContentTypeWithoutBodyMediaTypeIsUsed) {
  auto parsed = parse_manifest("application/vnd.oci.image.index.v1+json", R"({"schemaVersion":2,"manifests":[]})");
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->media_type, media_type::oci_index);
}

TEST(Manifest, RejectsAContentTypeThatDiffersFromTheBody) {
  EXPECT_ERRC(parse_manifest("application/vnd.oci.image.index.v1+json", oci_image()), Errc::manifest_invalid);
  EXPECT_ERRC(parse_manifest("application/vnd.docker.distribution.manifest.v2+json", oci_image()),
              Errc::manifest_invalid);
}

TEST(Manifest, RejectsStructureThatDoesNotMatchTheType) {
  // An index body declared as an image and vice versa (type confusion).
  EXPECT_ERRC(parse_manifest("application/vnd.oci.image.manifest.v1+json", R"({"schemaVersion":2,"manifests":[]})"),
              Errc::manifest_invalid);
  std::string both = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],
    "layers":[]})";
  EXPECT_ERRC(parse_manifest("", both), Errc::manifest_invalid);
  std::string image_with_manifests = R"({"schemaVersion":2,"config":{"mediaType":"a/b","digest":")" + k_config +
                                     R"(","size":1},"layers":[],"manifests":[]})";
  EXPECT_ERRC(parse_manifest("application/vnd.oci.image.manifest.v1+json", image_with_manifests),
              Errc::manifest_invalid);
  // Docker types need their mediaType in the body.
  EXPECT_ERRC(parse_manifest("application/vnd.docker.distribution.manifest.list.v2+json",
                             R"({"schemaVersion":2,"manifests":[]})"),
              Errc::manifest_invalid);
}

struct BadCase {
  std::string name;
  std::string content;
  Errc code = Errc::manifest_invalid;
};

std::string image_with_config(const std::string& config) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" + config +
         R"(,"layers":[]})";
}

std::string image_with_layer(const std::string& layer) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b",)"
         R"("digest":")" +
         k_config + R"(","size":1},"layers":[)" + layer + "]}";
}

std::vector<BadCase> bad_cases() {
  std::string good_digest = k_layer1;
  return {
      {"empty", ""},
      {"not json", "this is not json"},
      {"truncated", oci_image().substr(0, 100)},
      {"array", "[1,2,3]"},
      {"string", R"("manifest")"},
      {"no schemaVersion", R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})"},
      {"schemaVersion 1", R"({"schemaVersion":1,"name":"a","tag":"b","fsLayers":[]})"},
      {"schemaVersion string", R"({"schemaVersion":"2","manifests":[]})"},
      {"unknown mediaType", R"({"schemaVersion":2,"mediaType":"application/x-unknown","manifests":[]})"},
      {"mediaType not string", R"({"schemaVersion":2,"mediaType":5,"manifests":[]})"},
      {"config media type as manifest",
       R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.config.v1+json","manifests":[]})"},
      {"no structure", R"({"schemaVersion":2})"},
      {"image without config", R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "layers":[]})"},
      {"config not object", image_with_config(R"("x")")},
      {"config without mediaType", image_with_config(R"({"digest":")" + good_digest + R"(","size":1})")},
      {"config without digest", image_with_config(R"({"mediaType":"a/b","size":1})")},
      {"config without size", image_with_config(R"({"mediaType":"a/b","digest":")" + good_digest + R"("})")},
      {"negative size", image_with_config(R"({"mediaType":"a/b","digest":")" + good_digest + R"(","size":-1})")},
      {"float size", image_with_config(R"({"mediaType":"a/b","digest":")" + good_digest + R"(","size":1.5})")},
      {"string size", image_with_config(R"({"mediaType":"a/b","digest":")" + good_digest + R"(","size":"1"})")},
      {"digest not string", image_with_config(R"({"mediaType":"a/b","digest":12,"size":1})")},
      {"malformed digest", image_with_config(R"({"mediaType":"a/b","digest":"sha256:xyz","size":1})"),
       Errc::digest_invalid},
      {"uppercase digest",
       image_with_config(R"({"mediaType":"a/b","digest":"sha256:)" + std::string(64, 'A') + R"(","size":1})"),
       Errc::digest_invalid},
      {"layers not array", R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"mediaType":"a/b","digest":")" +
                               good_digest + R"(","size":1},"layers":{}})"},
      {"layer not object", image_with_layer("1")},
      {"layer bad digest", image_with_layer(R"({"mediaType":"a/b","digest":"md5:abc","size":1})"),
       Errc::digest_invalid},
      {"layer annotation not string",
       image_with_layer(R"({"mediaType":"a/b","digest":")" + good_digest + R"(","size":1,"annotations":{"k":1}})")},
      {"annotations not object", R"({"schemaVersion":2,"manifests":[],"annotations":[]})"},
      {"annotation value not string", R"({"schemaVersion":2,"manifests":[],"annotations":{"a":true}})"},
      {"artifactType not string", R"({"schemaVersion":2,"manifests":[],"artifactType":{}})"},
      {"subject not object", R"({"schemaVersion":2,"manifests":[],"subject":"x"})"},
      {"subject without digest", R"({"schemaVersion":2,"manifests":[],"subject":{"mediaType":"a/b","size":1}})"},
      {"manifests not array", R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
        "manifests":"x"})"},
      {"index entry without size",
       R"({"schemaVersion":2,"manifests":[{"mediaType":"a/b","digest":")" + good_digest + R"("}]})"},
  };
}

TEST(Manifest, RejectsMalformedManifests) {
  for (const auto& bad : bad_cases()) {
    SCOPED_TRACE(bad.name);
    EXPECT_ERRC(parse_manifest("", bad.content), bad.code);
  }
}

TEST(Manifest, ErrorsSayWhatIsWrong) {
  auto result = parse_manifest("", image_with_config(R"({"mediaType":"a/b","digest":")" + k_config + R"("})"));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("config"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("size"), std::string::npos) << result.error().message;
}

TEST(Manifest, KnowsTheFourManifestMediaTypes) {
  EXPECT_TRUE(is_manifest_media_type(media_type::oci_manifest));
  EXPECT_TRUE(is_manifest_media_type(media_type::oci_index));
  EXPECT_TRUE(is_manifest_media_type(media_type::docker_manifest));
  EXPECT_TRUE(is_manifest_media_type(media_type::docker_list));
  EXPECT_FALSE(is_manifest_media_type("application/vnd.docker.distribution.manifest.v1+prettyjws"));
  EXPECT_FALSE(is_manifest_media_type("application/json"));
  EXPECT_FALSE(is_manifest_media_type(""));
}

TEST(Manifest, MeasuresNestingWithoutParsing) {
  EXPECT_FALSE(json_deeper_than("{}", 1));
  EXPECT_TRUE(json_deeper_than("{\"a\":[]}", 1));
  EXPECT_FALSE(json_deeper_than("{\"a\":[]}", 2));
  EXPECT_FALSE(json_deeper_than("{\"a\":\"[[[[\\\"[[[\"}", 1));  // brackets in strings do not count
  EXPECT_FALSE(json_deeper_than("{\"a\":1},{\"b\":2}", 1));      // siblings, not nesting
  EXPECT_TRUE(json_deeper_than(std::string(100000, '['), 64));
}

// Two million nested arrays in a 4 MiB body: refused before a DOM is built.
TEST(Manifest, RefusesNestingDeeperThanTheLimit) {
  std::string deep = "{\"schemaVersion\":2,\"x\":" + std::string(2000000, '[') + std::string(2000000, ']') + "}";
  auto parsed = parse_manifest("", deep);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, Errc::manifest_invalid);
  EXPECT_NE(parsed.error().message.find("nested deeper than 64"), std::string::npos);
  std::string nested = "{\"schemaVersion\":2,\"x\":" + std::string(k_max_manifest_depth - 1, '[') +
                       std::string(k_max_manifest_depth - 1, ']') + "}";
  auto at_limit = parse_manifest("", nested);
  ASSERT_FALSE(at_limit);
  EXPECT_EQ(at_limit.error().message.find("nested deeper"), std::string::npos);  // refused for other reasons
}

}  // namespace
}  // namespace regd
