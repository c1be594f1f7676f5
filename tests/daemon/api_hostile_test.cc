// Hostile input at the application level (docs/security.md, "Hostile input"): path traversal in
// every name the client chooses, manifests that are not JSON or nest too deep, lying lengths and
// ranges, bodies longer than announced, truncated uploads. Each gets the spec's error, the root
// verifies clean afterwards, and a sentinel directory beside the root is untouched.
#include "auth_fixture.h"
#include "regd_process.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

// Every path under `dir` with its size, to compare before and after.
std::map<std::string, uintmax_t> snapshot(const fs::path& dir) {
  std::map<std::string, uintmax_t> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    out[fs::relative(entry.path(), dir).string()] = entry.is_regular_file() ? entry.file_size() : 0;
  }
  return out;
}

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void start(std::vector<std::string> flags) {
    m_regd.reset();
    fs::create_directories(sentinel() / "inner");
    std::ofstream(sentinel() / "inner" / "data") << "keep";
    m_before = snapshot(sentinel());
    m_regd = std::make_unique<RegdProcess>(root(), std::move(flags));
    ASSERT_TRUE(m_regd->ready());
  }
  void TearDown() override {
    EXPECT_EQ(snapshot(sentinel()), m_before) << "something outside the root changed";
    for (const auto& entry : fs::directory_iterator(m_tmp.path())) {
      auto name = entry.path().filename().string();
      EXPECT_TRUE(name == "root" || name == "sentinel" || name == "htpasswd" || name.starts_with("regd-")) << name;
    }
    if (fs::exists(v2())) {  // a root nothing was ever stored in has no tree to verify
      std::string command = std::string(REGCTL_BINARY) + " --root " + root().string() + " verify >" +
                            (m_tmp.path() / "verify.out").string() + " 2>&1";
      int status = std::system(command.c_str());
      std::ifstream in(m_tmp.path() / "verify.out");
      std::stringstream out;
      out << in.rdbuf();
      EXPECT_EQ(status, 0) << out.str();
      fs::remove(m_tmp.path() / "verify.out");
    }
  }
  fs::path root() const { return m_tmp.path() / "root"; }
  fs::path sentinel() const { return m_tmp.path() / "sentinel"; }
  fs::path v2() const { return root() / "docker/registry/v2"; }
  httplib::Client client() const { return m_regd->client(); }
  int port() const { return m_regd->port(); }
  // Raw request (paths httplib would normalize or refuse); returns the status.
  int raw(const std::string& request) {
    RawConnection conn(port());
    conn.send(request);
    return status_of(conn.read_response(request.starts_with("HEAD")));
  }
  size_t sessions(const std::string& repo) const {
    fs::path dir = v2() / "repositories" / repo / "_uploads";
    if (!fs::exists(dir)) {
      return 0;
    }
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }

  TempDir m_tmp;
  std::unique_ptr<RegdProcess> m_regd;
  std::map<std::string, uintmax_t> m_before;
};

TEST_F(Hostile, TraversalInTagsDigestsUploadIdsAndMountSources) {
  auto c = client();
  push_image(c, "app", "v1");
  std::string escape = "..%2F..%2F..%2Fsentinel";
  std::vector<std::string> targets = {
      "/v2/app/manifests/" + escape,
      "/v2/app/manifests/..",
      "/v2/app/manifests/sha256:..%2F..%2F" + std::string(58, 'a'),
      "/v2/app/blobs/sha256:" + escape,
      "/v2/app/blobs/uploads/" + escape,
      "/v2/app/blobs/uploads/..",
      "/v2/app/blobs/uploads/..%2F..%2Fsentinel%2Finner",
      "/v2/app/referrers/sha256:" + escape,
      "/v2/..%2Fsentinel/tags/list",
      "/v2/app/manifests/v2?tag=..%2F..%2Fsentinel",
      "/v2/app/manifests/v2?tag=..",
  };
  for (const auto& target : targets) {
    for (std::string method : {"GET", "HEAD", "PUT", "PATCH", "DELETE"}) {
      int status = raw(method + " " + target +
                       " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                       "Content-Length: 2\r\n\r\n{}");
      EXPECT_TRUE(status == 400 || status == 404 || status == 405) << method << " " << target << " -> " << status;
    }
  }
  auto layer = sha256_of(random_bytes(1001, 1));
  for (std::string from : {"..%2F..%2Fsentinel", "..", "app%2F..%2F..", "%2Fetc"}) {
    auto r = c.Post(("/v2/other/blobs/uploads/?mount=" + layer + "&from=" + from).c_str(), "", "");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << from;  // not mounted: a normal upload starts (spec)
  }
  EXPECT_EQ(c.Get(("/v2/other/blobs/" + layer).c_str())->status, 404);
  // Upload ids regd did not mint never become paths.
  auto r = c.Put("/v2/app/blobs/uploads/00000000-0000-0000-0000-000000000000?digest=" + layer, "", "");
  EXPECT_EQ(error_code(r->body), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(Hostile, ManifestsThatAreNotJsonOrNestTooDeep) {
  auto c = client();
  push_image(c, "app", "v0");
  for (const std::string& body :
       {std::string("not json"), std::string("{\"schemaVersion\":2,"), std::string("[1,2,3]"),
        std::string("\xff\xfe{}", 4),
        "{\"schemaVersion\":2,\"x\":" + std::string(100, '[') + std::string(100, ']') + "}"}) {
    auto r = c.Put("/v2/app/manifests/v1", body, "application/vnd.oci.image.manifest.v1+json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body.substr(0, 40);
    EXPECT_EQ(error_code(r->body), "MANIFEST_INVALID") << r->body;
  }
  // The 4 MiB of nested arrays of the original report: refused, and cheaply.
  size_t depth = 2 * 1024 * 1024 - 20;
  std::string deep = "{\"x\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
  auto r = c.Put("/v2/app/manifests/deep", deep, "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "MANIFEST_INVALID");
  EXPECT_NE(r->body.find("nested deeper"), std::string::npos) << r->body;
  EXPECT_EQ(c.Get("/v2/app/manifests/deep")->status, 404);
  EXPECT_EQ(c.Get("/v2/")->status, 200);
}

// A single POST whose body does not match ?digest= leaves nothing behind: no blob directory
// (anonymous: straight to the blob store) and no session (with auth: through a session).
TEST_F(Hostile, RefusedSinglePostLeavesNoDirectoryOrSession) {
  auto c = client();
  std::string claimed = sha256_of("promised");
  for (int i = 0; i < 20; ++i) {
    auto r = c.Post(("/v2/app/blobs/uploads/?digest=" + claimed).c_str(), "delivered " + std::to_string(i),
                    "application/octet-stream");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(error_code(r->body), "DIGEST_INVALID");
  }
  auto hex = claimed.substr(7);
  EXPECT_FALSE(fs::exists(v2() / "blobs/sha256" / hex.substr(0, 2) / hex));
  EXPECT_FALSE(fs::exists(v2() / "repositories/app/_layers/sha256" / hex));

  std::ofstream(m_tmp.path() / "htpasswd").close();
  ASSERT_EQ(std::system(("htpasswd -B -b " + (m_tmp.path() / "htpasswd").string() + " alice pw 2>/dev/null").c_str()),
            0);
  start({"--htpasswd", (m_tmp.path() / "htpasswd").string()});
  auto a = client();
  httplib::Headers alice = {{"Authorization", basic_header("alice", "pw")}};
  auto r = a.Post(("/v2/app/blobs/uploads/?digest=" + claimed).c_str(), alice, "delivered", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "DIGEST_INVALID");
  EXPECT_EQ(sessions("app"), 0u);
  EXPECT_FALSE(fs::exists(v2() / "blobs/sha256" / hex.substr(0, 2) / hex));
}

// A truncated single POST (the client announces more than it sends, then goes): no blob, no
// directory, no session.
TEST_F(Hostile, TruncatedUploadsLeaveNothing) {
  std::string data = random_bytes(4096, 7);
  std::string digest = sha256_of(data);
  {
    RawConnection conn(port());
    conn.send("POST /v2/app/blobs/uploads/?digest=" + digest +
              " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 4096\r\n\r\n" +
              data.substr(0, 1000));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto c = client();
  EXPECT_EQ(c.Head(("/v2/app/blobs/" + digest).c_str())->status, 404);
  auto hex = digest.substr(7);
  EXPECT_FALSE(fs::exists(v2() / "blobs/sha256" / hex.substr(0, 2) / hex));

  // A truncated PATCH: the session is cut back to where the chunk started.
  auto start_r = c.Post("/v2/app/blobs/uploads/", "", "");
  ASSERT_EQ(start_r->status, 202);
  std::string location = start_r->get_header_value("Location");
  ASSERT_EQ(c.Patch(location.c_str(), data.substr(0, 100), "application/octet-stream")->status, 202);
  {
    RawConnection conn(port());
    conn.send("PATCH " + location +
              " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 3996\r\n\r\n" +
              data.substr(100, 500));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto status = c.Get(location.c_str());
  ASSERT_EQ(status->status, 204);
  EXPECT_EQ(status->get_header_value("Range"), "0-99");
  // The upload goes on from there.
  ASSERT_EQ(c.Put((location + "?digest=" + digest).c_str(), data.substr(100), "application/octet-stream")->status, 201);
  EXPECT_EQ(c.Get(("/v2/app/blobs/" + digest).c_str())->body, data);
}

// Content-Range that disagrees with Content-Length, a start that is not the session's size, and
// a body longer than its Content-Range: 416 RANGE_INVALID, and the session keeps its size.
TEST_F(Hostile, LyingContentRangeOnPatch) {
  auto c = client();
  auto start_r = c.Post("/v2/app/blobs/uploads/", "", "");
  ASSERT_EQ(start_r->status, 202);
  std::string location = start_r->get_header_value("Location");
  ASSERT_EQ(c.Patch(location.c_str(), std::string(10, 'a'), "application/octet-stream")->status, 202);
  struct Case {
    std::string range;
    size_t length;
  };
  for (const Case& bad : {Case{"10-19", 5}, Case{"0-9", 10}, Case{"20-29", 10}, Case{"10-9", 0}, Case{"x-y", 10}}) {
    auto r = c.Patch(location.c_str(), {{"Content-Range", bad.range}}, std::string(bad.length, 'b'),
                     "application/octet-stream");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 416) << bad.range;
    EXPECT_EQ(error_code(r->body), "RANGE_INVALID") << bad.range;
    EXPECT_EQ(c.Get(location.c_str())->get_header_value("Range"), "0-9") << bad.range;
  }
  // A chunked body (no Content-Length) longer than its Content-Range: refused as it arrives.
  RawConnection conn(port());
  conn.send("PATCH " + location +
            " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Range: 10-14\r\n"
            "Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(conn.read_response()), 416);
  EXPECT_EQ(c.Get(location.c_str())->get_header_value("Range"), "0-9");
}

// Bytes beyond Content-Length are not part of the body: the chunk has exactly the announced
// length, and the rest is read as the next request (here garbage: 400 and close).
TEST_F(Hostile, BodyLongerThanContentLength) {
  auto c = client();
  auto start_r = c.Post("/v2/app/blobs/uploads/", "", "");
  ASSERT_EQ(start_r->status, 202);
  std::string location = start_r->get_header_value("Location");
  RawConnection conn(port());
  conn.send("PATCH " + location +
            " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\n"
            "12345GARBAGE GARBAGE\r\n\r\n");
  auto response = conn.read_all();
  EXPECT_EQ(status_of(response), 202) << response;
  EXPECT_NE(response.find("HTTP/1.1 400"), std::string::npos) << response;
  EXPECT_EQ(c.Get(location.c_str())->get_header_value("Range"), "0-4");
}

}  // namespace
}  // namespace regd::testing
