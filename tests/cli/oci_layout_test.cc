#include "oci_layout.h"

#include "file_io.h"
#include "test_util.h"

namespace regd::cli {
namespace {

using regd::testing::TempDir;

Descriptor manifest_descriptor(std::string_view content) {
  return Descriptor{.media_type = std::string(media_type::oci_manifest),
                    .digest = digest_of(content),
                    .size = content.size(),
                    .artifact_type = {},
                    .annotations = {}};
}

TEST(OciLayout, CreatesAnEmptyLayoutThatOpens) {
  TempDir dir;
  auto created = OciLayout::open_or_create(dir.path() / "l");
  ASSERT_OK(created);
  auto opened = OciLayout::open(dir.path() / "l");
  ASSERT_OK(opened);
  EXPECT_TRUE(opened->entries().empty());
  EXPECT_ERRC(opened->resolve(""), Errc::manifest_unknown);
}

TEST(OciLayout, OpenRejectsMissingAndMalformedLayouts) {
  TempDir dir;
  EXPECT_ERRC(OciLayout::open(dir.path()), Errc::not_found);
  ASSERT_OK(write_small_file(dir.path() / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  ASSERT_OK(write_small_file(dir.path() / "index.json", R"({"manifests":[{"digest":"sha256:nothex"}]})"));
  EXPECT_ERRC(OciLayout::open(dir.path()), Errc::manifest_invalid);
  ASSERT_OK(write_small_file(dir.path() / "index.json", "not json"));
  EXPECT_ERRC(OciLayout::open(dir.path()), Errc::manifest_invalid);
}

TEST(OciLayout, ResolvesTheOnlyEntryLatestOrANamedRef) {
  TempDir dir;
  auto layout = OciLayout::open_or_create(dir.path());
  ASSERT_OK(layout);
  auto one = manifest_descriptor("one");
  auto two = manifest_descriptor("two");
  layout->add_entry(one, "v1");
  EXPECT_EQ(layout->resolve("")->digest, one.digest);  // the only entry
  layout->add_entry(two, "v2");
  EXPECT_ERRC(layout->resolve(""), Errc::invalid_argument);  // several, none "latest"
  EXPECT_EQ(layout->resolve("v2")->digest, two.digest);
  EXPECT_ERRC(layout->resolve("v3"), Errc::manifest_unknown);
  layout->add_entry(two, "latest");
  EXPECT_EQ(layout->resolve("")->digest, two.digest);
}

TEST(OciLayout, AddEntryReplacesTheSameRefNameAndSurvivesSave) {
  TempDir dir;
  auto layout = OciLayout::open_or_create(dir.path());
  ASSERT_OK(layout);
  layout->add_entry(manifest_descriptor("old"), "v1");
  layout->add_entry(manifest_descriptor("new"), "v1");
  layout->add_entry(manifest_descriptor("anon"), std::nullopt);
  layout->add_entry(manifest_descriptor("anon"), std::nullopt);
  ASSERT_OK(layout->save());
  auto reopened = OciLayout::open(dir.path());
  ASSERT_OK(reopened);
  ASSERT_EQ(reopened->entries().size(), 2u);
  EXPECT_EQ(reopened->resolve("v1")->digest, digest_of("new"));
  EXPECT_EQ(ref_name_of(reopened->entries()[0]), "v1");
}

TEST(OciLayout, ReadBlobChecksDigestAndSize) {
  TempDir dir;
  auto layout = OciLayout::open_or_create(dir.path());
  ASSERT_OK(layout);
  auto descriptor = manifest_descriptor("{}");
  ASSERT_OK(write_small_file(layout->blob_path(descriptor.digest), "{}"));
  EXPECT_TRUE(layout->has_blob(descriptor.digest, 2));
  EXPECT_FALSE(layout->has_blob(descriptor.digest, 3));
  EXPECT_EQ(*layout->read_blob(descriptor, 100), "{}");
  ASSERT_OK(write_small_file(layout->blob_path(descriptor.digest), "{ }"));
  EXPECT_ERRC(layout->read_blob(descriptor, 100), Errc::corrupt);
  EXPECT_ERRC(layout->read_blob(manifest_descriptor("absent"), 100), Errc::not_found);
  EXPECT_EQ(layout->blob_path(descriptor.digest), dir.path() / "blobs" / "sha256" / descriptor.digest.hex());
}

TEST(OciLayout, DescriptorJsonRoundTripsAndRejectsMissingFields) {
  auto descriptor = manifest_descriptor("x");
  descriptor.artifact_type = "application/vnd.example";
  descriptor.annotations["a"] = "b";
  auto back = descriptor_from_json(descriptor_to_json(descriptor));
  ASSERT_OK(back);
  EXPECT_EQ(back->digest, descriptor.digest);
  EXPECT_EQ(back->artifact_type, descriptor.artifact_type);
  EXPECT_EQ(back->annotations, descriptor.annotations);
  EXPECT_ERRC(descriptor_from_json(nlohmann::json{{"digest", descriptor.digest.str()}}), Errc::manifest_invalid);
}

}  // namespace
}  // namespace regd::cli
