// The distribution spec's newest additions (issue 11): ?tag= on a manifest PUT by digest with one
// OCI-Tag per tag, tags keeping their digest algorithm, ?digest-algorithm= on upload POST, 416
// for an inverted Range; and immutable tags (--immutable-tags).
#include "regd_process.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class SpecAdditions : public RegdTest {};

constexpr const char* k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";

// A manifest over freshly pushed blobs, not yet pushed itself.
std::string prepared_manifest(httplib::Client& c, const std::string& repo, unsigned seed) {
  std::string config = R"({"seed":)" + std::to_string(seed) + "}";
  std::string layer = random_bytes(500 + seed, seed);
  push_blob(c, repo, config);
  push_blob(c, repo, layer);
  return image_manifest(config, {layer});
}

TEST_F(SpecAdditions, TagsOnAPutByDigestAreConfirmedOneHeaderEach) {
  auto c = client();
  auto manifest = prepared_manifest(c, "multi", 1);
  auto digest = sha256_of(manifest);
  auto r = c.Put(("/v2/multi/manifests/" + digest + "?tag=v3&tag=v3.1&tag=latest").c_str(), manifest, k_oci_manifest);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  std::vector<std::string> tags;
  auto range = r->headers.equal_range("OCI-Tag");
  for (auto it = range.first; it != range.second; ++it) {
    tags.push_back(it->second);
  }
  EXPECT_EQ(tags, (std::vector<std::string>{"v3", "v3.1", "latest"}));
  for (const char* tag : {"v3", "v3.1", "latest"}) {
    auto got = c.Head((std::string("/v2/multi/manifests/") + tag).c_str());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->get_header_value("Docker-Content-Digest"), digest) << tag;
  }
  auto plain = c.Put(("/v2/multi/manifests/" + digest).c_str(), manifest, k_oci_manifest);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->has_header("OCI-Tag"));
}

TEST_F(SpecAdditions, ATagKeepsTheDigestAlgorithmItWasPushedWith) {
  auto c = client();
  auto manifest = prepared_manifest(c, "five12", 2);
  auto digest = digest_of(manifest, DigestAlgorithm::sha512).str();
  auto r = c.Put(("/v2/five12/manifests/" + digest + "?tag=t").c_str(), manifest, k_oci_manifest);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(r->get_header_value("Docker-Content-Digest"), digest);
  auto head = c.Head("/v2/five12/manifests/t");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->get_header_value("Docker-Content-Digest"), digest);
  auto get = c.Get("/v2/five12/manifests/t");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->get_header_value("Docker-Content-Digest"), digest);
  EXPECT_EQ(get->body, manifest);
}

TEST_F(SpecAdditions, AnUploadHashesWithTheRequestedAlgorithm) {
  auto c = client();
  auto data = random_bytes(3000, 3);
  auto start = c.Post("/v2/algo/blobs/uploads/?digest-algorithm=sha512", "", "application/octet-stream");
  ASSERT_TRUE(start);
  ASSERT_EQ(start->status, 202) << start->body;
  auto location = start->get_header_value("Location");
  auto patch = c.Patch(location.c_str(), data, "application/octet-stream");
  ASSERT_TRUE(patch);
  ASSERT_EQ(patch->status, 202) << patch->body;
  auto id = location.substr(location.rfind('/') + 1);
  auto states = root() / "docker/registry/v2/repositories/algo/_uploads" / id / "hashstates";
  EXPECT_TRUE(fs::exists(states / "sha512" / "3000"));
  EXPECT_FALSE(fs::exists(states / "sha256"));
  auto digest = digest_of(data, DigestAlgorithm::sha512).str();
  auto done = c.Put((location + "?digest=" + digest).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 201) << done->body;
  EXPECT_EQ(c.Get(("/v2/algo/blobs/" + digest).c_str())->body, data);
  auto bad = c.Post("/v2/algo/blobs/uploads/?digest-algorithm=md5", "", "application/octet-stream");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(error_code(bad->body), "UNSUPPORTED");
}

TEST_F(SpecAdditions, ARangeEndingBeforeItStartsIs416) {
  auto c = client();
  auto data = random_bytes(1000, 4);
  auto digest = push_blob(c, "ranges", data);
  auto r = c.Get(("/v2/ranges/blobs/" + digest).c_str(), {{"Range", "bytes=500-0"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes */1000");
  EXPECT_EQ(error_code(r->body), "RANGE_INVALID");
}

class ImmutableTags : public ::testing::Test {
 protected:
  void SetUp() override {
    m_regd = std::make_unique<RegdProcess>(m_tmp.path() / "root",
                                           std::vector<std::string>{"--immutable-tags", "v*, release-*"});
    ASSERT_TRUE(m_regd->ready());
  }
  TempDir m_tmp;
  std::unique_ptr<RegdProcess> m_regd;
};

TEST_F(ImmutableTags, RefuseToMoveButAcceptTheSameDigestAgain) {
  auto c = m_regd->client();
  auto first = push_image(c, "imm", "v1", 1);
  auto again = c.Put("/v2/imm/manifests/v1", first, k_oci_manifest);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 201) << again->body;
  auto other = prepared_manifest(c, "imm", 2);
  auto moved = c.Put("/v2/imm/manifests/v1", other, k_oci_manifest);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 409);
  EXPECT_EQ(error_code(moved->body), "DENIED");
  EXPECT_NE(moved->body.find("tag v1 in repository imm is immutable"), std::string::npos) << moved->body;
  auto by_digest =
      c.Put(("/v2/imm/manifests/" + sha256_of(other) + "?tag=release-1&tag=v1").c_str(), other, k_oci_manifest);
  ASSERT_TRUE(by_digest);
  EXPECT_EQ(by_digest->status, 409);
  EXPECT_EQ(c.Get("/v2/imm/manifests/v1")->body, first);
  EXPECT_EQ(c.Get("/v2/imm/manifests/release-1")->status, 404);
  auto latest = c.Put("/v2/imm/manifests/latest", other, k_oci_manifest);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->status, 201);  // other tags move freely
}

TEST_F(ImmutableTags, RefuseToBeDeletedDirectlyOrWithTheirManifest) {
  auto c = m_regd->client();
  auto manifest = push_image(c, "imm", "release-2", 3);
  auto tag = c.Delete("/v2/imm/manifests/release-2");
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->status, 409);
  EXPECT_EQ(error_code(tag->body), "DENIED");
  auto by_digest = c.Delete(("/v2/imm/manifests/" + sha256_of(manifest)).c_str());
  ASSERT_TRUE(by_digest);
  EXPECT_EQ(by_digest->status, 409);
  EXPECT_EQ(c.Get("/v2/imm/manifests/release-2")->body, manifest);
}

// Every instance with the same option enforces the same rule: the check reads storage.
TEST_F(ImmutableTags, AnotherInstanceWithTheSameRuleRefusesToo) {
  RegdProcess other(m_tmp.path() / "root", {"--immutable-tags", "v*"});
  ASSERT_TRUE(other.ready());
  auto c = m_regd->client();
  push_image(c, "imm", "v9", 4);
  auto o = other.client();
  auto manifest = prepared_manifest(o, "imm", 5);
  auto moved = o.Put("/v2/imm/manifests/v9", manifest, k_oci_manifest);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 409);
}

}  // namespace
}  // namespace regd::testing
