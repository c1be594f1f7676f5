#include "location.h"

#include "exit_codes.h"
#include "test_util.h"

namespace regd::cli {
namespace {

TEST(Location, ParsesTransportPathAndRef) {
  auto oci = parse_location("oci:/tmp/layout:v1");
  ASSERT_OK(oci);
  EXPECT_EQ(oci->transport, Transport::oci);
  EXPECT_EQ(oci->path, "/tmp/layout");
  EXPECT_EQ(oci->ref, "v1");
  auto archive = parse_location("oci-archive:a.tar");
  ASSERT_OK(archive);
  EXPECT_EQ(archive->transport, Transport::oci_archive);
  EXPECT_EQ(archive->ref, "");
  auto docker = parse_location("docker-archive:saved.tar:example/app:1.0");
  ASSERT_OK(docker);
  EXPECT_EQ(docker->transport, Transport::docker_archive);
  EXPECT_EQ(docker->path, "saved.tar");
  EXPECT_EQ(docker->ref, "example/app:1.0");
}

TEST(Location, RejectsUnknownTransportAndEmptyPath) {
  EXPECT_ERRC(parse_location("docker://x/y"), Errc::invalid_argument);
  EXPECT_ERRC(parse_location("layout"), Errc::invalid_argument);
  EXPECT_ERRC(parse_location("oci:"), Errc::invalid_argument);
  EXPECT_ERRC(parse_location("oci::v1"), Errc::invalid_argument);
}

TEST(ExitCodes, MapErrorCodesToDocumentedExitCodes) {
  EXPECT_EQ(exit_code_for(Errc::invalid_argument), 2);
  EXPECT_EQ(exit_code_for(Errc::name_invalid), 2);
  EXPECT_EQ(exit_code_for(Errc::manifest_unknown), 4);
  EXPECT_EQ(exit_code_for(Errc::name_unknown), 4);
  EXPECT_EQ(exit_code_for(Errc::not_found), 4);
  EXPECT_EQ(exit_code_for(Errc::digest_invalid), 1);
  EXPECT_EQ(exit_code_for(Errc::io_error), 1);
  EXPECT_EQ(exit_code_for(Errc::corrupt), 1);
}

}  // namespace
}  // namespace regd::cli
