#include "docker_archive.h"

#include <zlib.h>

#include "file_io.h"
#include "test_util.h"

namespace regd::cli {
namespace {

using regd::testing::TempDir;

class DockerArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(write_small_file(m_dir.path() / "x/cfg.json", R"({"os":"linux"})"));
    ASSERT_OK(write_small_file(m_dir.path() / "x/layer.tar", std::string(100000, 'a')));
    ASSERT_OK(write_small_file(m_dir.path() / "x/gz.tar.gz", std::string("\x1f\x8b", 2) + "rest"));
    auto layout = OciLayout::open_or_create(m_dir.path() / "layout");
    ASSERT_OK(layout);
    m_layout.emplace(std::move(*layout));
  }
  void write_manifest(std::string_view json) { ASSERT_OK(write_small_file(m_dir.path() / "x/manifest.json", json)); }
  nlohmann::json stored_manifest(const DockerImage& image) {
    return nlohmann::json::parse(*read_small_file(m_layout->blob_path(image.manifest.digest), 1 << 20));
  }

  TempDir m_dir;
  std::optional<OciLayout> m_layout;
};

TEST_F(DockerArchiveTest, ConvertsToSchema2GzippingOnlyUncompressedLayers) {
  write_manifest(R"([{"Config":"cfg.json","RepoTags":["example/app:1.0"],"Layers":["layer.tar","gz.tar.gz"]}])");
  auto image = convert_docker_archive(m_dir.path() / "x", "", *m_layout);
  ASSERT_OK(image);
  EXPECT_EQ(image->tag, "1.0");
  EXPECT_EQ(image->manifest.media_type, media_type::docker_manifest);
  auto manifest = stored_manifest(*image);
  EXPECT_EQ(manifest["config"]["digest"], digest_of(R"({"os":"linux"})").str());
  EXPECT_EQ(manifest["layers"][0]["mediaType"], k_docker_layer_gzip);
  EXPECT_EQ(manifest["layers"][1]["digest"], digest_of(std::string("\x1f\x8b", 2) + "rest").str());
  auto gz = Digest::parse(manifest["layers"][0]["digest"].get<std::string>());
  ASSERT_OK(gz);
  auto compressed = read_small_file(m_layout->blob_path(*gz), 1 << 20);
  ASSERT_OK(compressed);
  std::string plain(200000, '\0');
  uLongf plain_size = static_cast<uLongf>(plain.size());
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(compressed->data());
  z.avail_in = static_cast<uInt>(compressed->size());
  z.next_out = reinterpret_cast<Bytef*>(plain.data());
  z.avail_out = static_cast<uInt>(plain_size);
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  EXPECT_EQ(z.total_out, 100000u);
  inflateEnd(&z);
}

TEST_F(DockerArchiveTest, GzipIsDeterministic) {
  auto one = gzip_file(m_dir.path() / "x/layer.tar", m_dir.path() / "1.gz");
  auto two = gzip_file(m_dir.path() / "x/layer.tar", m_dir.path() / "2.gz");
  ASSERT_OK(one);
  ASSERT_OK(two);
  EXPECT_EQ(one->digest, two->digest);
  EXPECT_LT(one->size, 100000u);
}

TEST_F(DockerArchiveTest, ChoosesAnImageByRepoTagOrPosition) {
  write_manifest(R"([{"Config":"cfg.json","RepoTags":["a:1"],"Layers":[]},
                     {"Config":"cfg.json","RepoTags":["b:2"],"Layers":["layer.tar"]}])");
  EXPECT_ERRC(convert_docker_archive(m_dir.path() / "x", "", *m_layout), Errc::manifest_unknown);
  EXPECT_ERRC(convert_docker_archive(m_dir.path() / "x", "c:3", *m_layout), Errc::manifest_unknown);
  auto image = convert_docker_archive(m_dir.path() / "x", "@1", *m_layout);
  ASSERT_OK(image);
  EXPECT_EQ(image->tag, "2");
  EXPECT_EQ(stored_manifest(*image)["layers"].size(), 1u);
}

TEST_F(DockerArchiveTest, RejectsMissingFilesAndPathsOutsideTheArchive) {
  write_manifest(R"([{"Config":"cfg.json","Layers":["nope.tar"]}])");
  EXPECT_ERRC(convert_docker_archive(m_dir.path() / "x", "", *m_layout), Errc::not_found);
  ASSERT_OK(write_small_file(m_dir.path() / "outside.tar", "x"));
  write_manifest(R"([{"Config":"cfg.json","Layers":["../outside.tar"]}])");
  EXPECT_ERRC(convert_docker_archive(m_dir.path() / "x", "", *m_layout), Errc::invalid_argument);
  write_manifest(R"({"not":"a list"})");
  EXPECT_ERRC(convert_docker_archive(m_dir.path() / "x", "", *m_layout), Errc::manifest_invalid);
}

}  // namespace
}  // namespace regd::cli
