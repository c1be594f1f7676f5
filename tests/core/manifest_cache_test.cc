#include "manifest_cache.h"

#include <gtest/gtest.h>

#include "regd/manifest.h"
#include "registry_test_util.h"

namespace regd::testing {
namespace {

const std::string k_subject = "sha256:" + std::string(64, 'e');

std::string artifact_with_subject() {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         R"("artifactType":"application/x.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json",)"
         R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},)"
         R"("layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
         k_subject + R"(","size":10},"annotations":{"a":"b"}})";
}

TEST(ManifestCache, SummarizesWhatTheReadPathNeeds) {
  std::string content = artifact_with_subject();
  auto summary = summarize_manifest(content);
  EXPECT_TRUE(summary.valid);
  EXPECT_EQ(summary.media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(summary.size, content.size());
  ASSERT_TRUE(summary.subject);
  EXPECT_EQ(summary.subject->str(), k_subject);
  EXPECT_EQ(summary.artifact_type, "application/x.sig");
  EXPECT_EQ(summary.annotations.at("a"), "b");
}

TEST(ManifestCache, SummarizesContentItsParserRefuses) {
  EXPECT_EQ(summarize_manifest(R"({"schemaVersion":1,"name":"x"})").media_type,
            "application/vnd.docker.distribution.manifest.v1+prettyjws");
  auto deep = summarize_manifest("{\"manifests\":" + std::string(100000, '[') + std::string(100000, ']') + "}");
  EXPECT_FALSE(deep.valid);
  EXPECT_EQ(deep.media_type, "application/vnd.oci.image.manifest.v1+json");
}

TEST(ManifestCache, FindsWhatWasInsertedAndStaysWithinItsBudget) {
  ManifestCache cache(8 * 4096);
  std::vector<Digest> digests;
  for (int i = 0; i < 1000; ++i) {
    digests.push_back(digest_of("manifest " + std::to_string(i)));
    auto summary = std::make_shared<ManifestSummary>();
    summary->media_type = std::string(200, 'm');
    cache.insert(digests.back(), summary);
  }
  ASSERT_TRUE(cache.find(digests.back()));
  EXPECT_EQ(cache.find(digests.back())->media_type, std::string(200, 'm'));
  size_t kept = 0;
  for (const Digest& digest : digests) {
    kept += cache.find(digest) ? 1 : 0;
  }
  EXPECT_LT(kept, 200u);  // 32 KiB hold far fewer than 1000 summaries of ~300 bytes
  EXPECT_FALSE(cache.find(digests.front()));
  auto huge = std::make_shared<ManifestSummary>();
  huge->media_type = std::string(8192, 'h');
  cache.insert(digest_of("huge"), huge);
  EXPECT_FALSE(cache.find(digest_of("huge")));
}

}  // namespace
}  // namespace regd::testing
