#include "error_table.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "log.h"

namespace regd::daemon {
namespace {

TEST(ErrorTable, MapsSpecCodes) {
  EXPECT_EQ(http_error(Errc::digest_invalid, Area::blob).status, 400u);
  EXPECT_EQ(http_error(Errc::digest_invalid, Area::blob).code, "DIGEST_INVALID");
  EXPECT_EQ(http_error(Errc::blob_unknown, Area::blob).status, 404u);
  EXPECT_EQ(http_error(Errc::manifest_blob_unknown, Area::manifest).code, "MANIFEST_BLOB_UNKNOWN");
  EXPECT_EQ(http_error(Errc::name_invalid, Area::tags).code, "NAME_INVALID");
  EXPECT_EQ(http_error(Errc::upload_unknown, Area::upload).code, "BLOB_UPLOAD_UNKNOWN");
  EXPECT_EQ(http_error(Errc::range_invalid, Area::upload).status, 416u);
  EXPECT_EQ(http_error(Errc::too_large, Area::manifest).status, 413u);
  EXPECT_EQ(http_error(Errc::io_error, Area::blob).status, 500u);
}

TEST(ErrorTable, NotFoundDependsOnTheArea) {
  EXPECT_EQ(http_error(Errc::not_found, Area::blob).code, "BLOB_UNKNOWN");
  EXPECT_EQ(http_error(Errc::not_found, Area::manifest).code, "MANIFEST_UNKNOWN");
  EXPECT_EQ(http_error(Errc::not_found, Area::upload).code, "BLOB_UPLOAD_UNKNOWN");
  EXPECT_EQ(http_error(Errc::not_found, Area::tags).code, "NAME_UNKNOWN");
}

TEST(ErrorTable, AConcurrentAppendIsARangeError) {
  EXPECT_EQ(http_error(Errc::conflict, Area::upload).status, 416u);
  EXPECT_EQ(http_error(Errc::conflict, Area::manifest).status, 429u);
}

TEST(ErrorTable, EveryCodeMapsToAClientOrServerError) {
  for (int i = 0; i <= static_cast<int>(Errc::corrupt); ++i) {
    auto e = http_error(static_cast<Errc>(i), Area::base);
    EXPECT_GE(e.status, 400u);
    EXPECT_LT(e.status, 600u);
    EXPECT_FALSE(e.code.empty());
  }
}

TEST(ErrorResponse, HasTheSpecJsonBody) {
  auto r = error_response(Error{Errc::blob_unknown, "blob sha256:ab"}, Area::blob);
  EXPECT_EQ(r.status, 404u);
  ASSERT_NE(r.find("Content-Type"), nullptr);
  EXPECT_EQ(*r.find("Content-Type"), "application/json");
  auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["code"], "BLOB_UNKNOWN");
  EXPECT_EQ(j["errors"][0]["message"], "blob sha256:ab");
  EXPECT_TRUE(j["errors"][0].contains("detail"));
}

// Error bodies never carry a storage failure's detail (it names paths); the request id lets an
// operator find the detail in the log.
TEST(ErrorResponse, HidesStorageFailuresBehindTheRequestId) {
  for (Errc code : {Errc::io_error, Errc::denied, Errc::corrupt, Errc::no_space}) {
    RequestIdScope scope("req-42");
    auto r = error_response(Error{code, "mkdir /srv/registry/docker/registry/v2/repositories: Permission denied"},
                            Area::upload);
    auto message = nlohmann::json::parse(r.body)["errors"][0]["message"].get<std::string>();
    EXPECT_EQ(message.find("/srv"), std::string::npos) << message;
    EXPECT_EQ(message.find("repositories"), std::string::npos) << message;
    EXPECT_NE(message.find("(request id req-42)"), std::string::npos) << message;
  }
  EXPECT_EQ(nlohmann::json::parse(
                error_response(Error{Errc::io_error, "open /x: EIO"}, Area::blob).body)["errors"][0]["message"],
            "storage error");
  EXPECT_TRUE(is_storage_failure(Errc::denied));
  EXPECT_FALSE(is_storage_failure(Errc::immutable));
}

TEST(ErrorTable, AnImmutableTagIsAConflictWithCodeDenied) {
  EXPECT_EQ(http_error(Errc::immutable, Area::manifest).status, 409u);
  EXPECT_EQ(http_error(Errc::immutable, Area::manifest).code, "DENIED");
  auto r = error_response(Error{Errc::immutable, "tag v1 in repository r is immutable"}, Area::manifest);
  EXPECT_EQ(nlohmann::json::parse(r.body)["errors"][0]["message"], "tag v1 in repository r is immutable");
}

}  // namespace
}  // namespace regd::daemon
