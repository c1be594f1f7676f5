// Error bodies (issue 11): not-found messages say what is missing where, and no body reveals
// where the storage lives.
#include "regd_process.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

class ApiErrors : public RegdTest {};

std::string message_of(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_discarded() ? std::string() : j["errors"][0].value("message", "");
}

TEST_F(ApiErrors, NotFoundMessagesKeepTheirPredicate) {
  auto c = client();
  push_image(c, "team/app", "v1");
  auto tag = c.Get("/v2/team/app/manifests/nope");
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->status, 404);
  EXPECT_EQ(message_of(tag->body), "tag nope not in repository team/app");
  auto digest = sha256_of("not pushed");
  auto manifest = c.Get(("/v2/team/app/manifests/" + digest).c_str());
  ASSERT_TRUE(manifest);
  EXPECT_EQ(message_of(manifest->body), "manifest " + digest + " not in repository team/app");
  auto blob = c.Get(("/v2/team/app/blobs/" + digest).c_str());
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->status, 404);
  EXPECT_EQ(message_of(blob->body), "blob " + digest + " not in repository team/app");
}

// A storage failure below the repositories directory (here: a file where a directory belongs).
TEST_F(ApiErrors, StorageFailuresNameNoServerPath) {
  auto repositories = root() / "docker/registry/v2/repositories";
  fs::create_directories(repositories.parent_path());
  std::ofstream(repositories) << "not a directory";
  auto c = client();
  auto r = c.Post("/v2/team/app/blobs/uploads/", "", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 400) << r->body;
  EXPECT_EQ(r->body.find(root().string()), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find(m_tmp.path().string()), std::string::npos) << r->body;
  auto blob = c.Post(("/v2/team/app/blobs/uploads/?digest=" + sha256_of("x")).c_str(), "x", "application/octet-stream");
  ASSERT_TRUE(blob);
  EXPECT_GE(blob->status, 400) << blob->body;
  EXPECT_EQ(blob->body.find(m_tmp.path().string()), std::string::npos) << blob->body;
}

}  // namespace
}  // namespace regd::testing
