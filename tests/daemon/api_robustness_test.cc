// Base endpoints, error bodies, hostile paths and bodies nobody wants.
#include <sched.h>
#include <sys/mount.h>

#include "regd_process.h"

namespace regd::testing {
namespace {

using Robustness = RegdTest;

TEST_F(Robustness, BaseEndpointAnswersWithTheApiVersion) {
  auto c = client();
  auto r = c.Get("/v2/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Docker-Distribution-API-Version"), "registry/2.0");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_FALSE(r->get_header_value("X-Request-Id").empty());
}

TEST_F(Robustness, HealthReadinessAndMetrics) {
  auto c = client();
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(c.Get("/readyz")->status, 200);
  // The probe leaves nothing behind.
  EXPECT_TRUE(std::filesystem::is_empty(root() / "_regd" / "readyz"));
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("# TYPE regd_http_request_duration_seconds histogram"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("regd_http_sent_bytes_total{route=\"healthz\"}"), std::string::npos);
  EXPECT_NE(m->body.find("regd_connections_open"), std::string::npos);
}

TEST_F(Robustness, ClientRequestIdIsEchoed) {
  auto c = client();
  auto r = c.Get("/v2/", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(r->get_header_value("X-Request-Id"), "abc-123");
  // The access log line is buffered (written every 200 ms): wait for it (bounded).
  bool logged = false;
  for (int i = 0; i < 500 && !logged; ++i) {
    logged = regd().log().find("\"request_id\":\"abc-123\"") != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(logged) << regd().log();
}

TEST_F(Robustness, AccessLogLinesAreJson) {
  auto c = client();
  c.Get("/v2/", {{"X-Request-Id", "json-lines"}});
  // Access lines are buffered (written every 200 ms): wait for this one (bounded).
  for (int i = 0; i < 500 && regd().log().find("json-lines") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::stringstream lines(regd().log());
  std::string line;
  int requests = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    if (j["msg"] == "request") {
      ++requests;
      for (auto key :
           {"method", "route", "repository", "path", "status", "bytes", "duration_ms", "request_id", "user"}) {
        EXPECT_TRUE(j.contains(key)) << key;
      }
    }
  }
  EXPECT_GE(requests, 1);
}

TEST_F(Robustness, UnknownRouteIsA404ErrorBody) {
  auto c = client();
  for (auto path : {"/", "/v1/", "/v2/a", "/v2/a/unknown/x", "/v2/a/tags/other"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_FALSE(error_code(r->body).empty()) << path;
  }
}

TEST_F(Robustness, HostilePathsAre400Or404NeverServerErrors) {
  auto digest = sha256_of("x");
  std::vector<std::string> paths = {"/v2/../x/manifests/latest",
                                    "/v2/%2e%2e/x/manifests/latest",
                                    "/v2/a/../../etc/manifests/passwd",
                                    "/v2/a/manifests/..%2f..%2fx",
                                    "/v2/a/manifests/..",
                                    "/v2/a//b/blobs/" + digest,
                                    "/v2/A/tags/list",
                                    "/v2/a/blobs/uploads/..",
                                    "/v2/a/blobs/..%2F..%2Fdata",
                                    "/v2/" + std::string(300, 'a') + "/tags/list",
                                    "/v2/a/manifests/" + std::string(200, 't'),
                                    "/v2/a/referrers/..",
                                    "/v2/%00/tags/list",
                                    "/v2/a/blobs/sha256:" + std::string(64, '.')};
  for (const auto& path : paths) {
    for (auto method : {"GET", "HEAD", "PUT", "DELETE", "PATCH"}) {
      RawConnection conn(regd().port());
      ASSERT_TRUE(conn.connected());
      conn.send(std::string(method) + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
      auto status = status_of(conn.read_response(method == std::string("HEAD")));
      EXPECT_TRUE(status == 400 || status == 404 || status == 405) << method << " " << path << " -> " << status;
    }
  }
  // Nothing escaped the root.
  EXPECT_FALSE(std::filesystem::exists(m_tmp.path() / "x"));
  EXPECT_FALSE(std::filesystem::exists(m_tmp.path() / "etc"));
}

TEST_F(Robustness, MalformedRequestIs400AndClosed) {
  RawConnection conn(regd().port());
  conn.send("THIS IS NOT HTTP\r\n\r\n");
  auto response = conn.read_all();
  EXPECT_EQ(status_of(response), 400) << response;
  EXPECT_TRUE(conn.closed_by_peer());
}

TEST_F(Robustness, OversizedHeaderIs431) {
  RawConnection conn(regd().port());
  conn.send("GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100 * 1024, 'a') + "\r\n\r\n");
  auto response = conn.read_all();
  EXPECT_EQ(status_of(response), 431) << response.substr(0, 200);
}

TEST_F(Robustness, SmallUnwantedBodyKeepsTheConnection) {
  RawConnection conn(regd().port());
  conn.send("POST /v2/nothing HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(status_of(conn.read_response()), 404);
  conn.send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(conn.read_response()), 200);
}

TEST_F(Robustness, LargeUnwantedBodyIsRefusedNotBuffered) {
  long rss_before = regd().rss_kib();
  RawConnection conn(regd().port());
  ASSERT_TRUE(conn.send("POST /unknown HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"));
  // Offer far more than regd may keep; it must stop reading and close instead.
  std::string chunk(1024 * 1024, 'z');
  size_t sent = 0;
  for (int i = 0; i < 256 && conn.send(chunk); ++i) {
    sent += chunk.size();
  }
  auto response = conn.read_all(64 * 1024);
  EXPECT_EQ(status_of(response), 404) << response.substr(0, 200);
  EXPECT_NE(response.find("Connection: close"), std::string::npos);
  EXPECT_LT(sent, 256u * 1024 * 1024) << "regd kept reading the whole body";
  long rss_after = regd().rss_kib();
  EXPECT_LT(rss_after - rss_before, 64 * 1024) << "RSS grew from " << rss_before << " to " << rss_after << " KiB";
  // The server is fine.
  EXPECT_EQ(client().Get("/v2/")->status, 200);
}

TEST_F(Robustness, KeepAliveServesManyRequestsOnOneConnection) {
  RawConnection conn(regd().port());
  for (int i = 0; i < 50; ++i) {
    conn.send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(status_of(conn.read_response()), 200) << i;
  }
}

// A regd whose root is a 1 MiB tmpfs, mounted in a private mount namespace (so it vanishes with
// the test process and nobody else sees it). Needs root; skipped otherwise.
class FullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || ::unshare(CLONE_NEWNS) != 0) {
      GTEST_SKIP() << "needs root and a private mount namespace (unshare) to mount a small tmpfs";
    }
    ASSERT_EQ(::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
    m_disk = m_tmp.path() / "disk";
    std::filesystem::create_directory(m_disk);
    ASSERT_EQ(::mount("tmpfs", m_disk.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
    m_mounted = true;
    m_regd = std::make_unique<RegdProcess>(m_disk / "root");
    ASSERT_TRUE(m_regd->ready()) << "regd did not start";
  }
  void TearDown() override {
    m_regd.reset();
    if (m_mounted) {
      ::umount2(m_disk.c_str(), MNT_DETACH);
    }
  }
  // Writes a filler file until the tmpfs refuses more (ENOSPC).
  void fill() {
    std::string block(64 * 1024, 'f');
    int fd = ::open((m_disk / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    EXPECT_EQ(errno, ENOSPC);
    ::close(fd);
  }
  std::filesystem::path uploads_dir(const std::string& repo) const {
    return m_disk / "root/docker/registry/v2/repositories" / repo / "_uploads";
  }

  TempDir m_tmp;
  std::filesystem::path m_disk;
  bool m_mounted = false;
  std::unique_ptr<RegdProcess> m_regd;
};

TEST_F(FullDisk, UploadPostOnAFullDiskIs507AndLeavesNoSession) {
  auto c = m_regd->client();
  fill();
  for (int i = 0; i < 3; ++i) {
    auto r = c.Post("/v2/full/blobs/uploads/", "", "application/octet-stream");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 507) << r->body;
    EXPECT_TRUE(r->get_header_value("Location").empty());
  }
  // Nothing under _uploads: no session without startedat or data, no temp directory either.
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(uploads_dir("full"), ec)) {
    left.push_back(entry.path().filename().string());
  }
  EXPECT_TRUE(left.empty()) << left.size() << " entries left, first: " << (left.empty() ? "" : left.front());
  // With space again, the same POST starts a complete session.
  std::filesystem::remove(m_disk / "filler");
  auto r = c.Post("/v2/full/blobs/uploads/", "", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  auto location = r->get_header_value("Location");
  auto id = location.substr(location.rfind('/') + 1);
  EXPECT_TRUE(std::filesystem::exists(uploads_dir("full") / id / "startedat"));
  EXPECT_TRUE(std::filesystem::exists(uploads_dir("full") / id / "data"));
}

// A chunk of three of the session's 1 MiB body buffers on a 1 MiB disk runs out of space while
// the next buffer is being received and the previous one written and hashed: 507, the chunk is
// cut off again, and the session takes the blob once there is space.
TEST_F(FullDisk, AChunkThatRunsOutOfSpaceMidwayIs507AndIsCutOff) {
  auto c = m_regd->client();
  auto r = c.Post("/v2/full/blobs/uploads/", "", "application/octet-stream");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  auto location = r->get_header_value("Location");
  auto id = location.substr(location.rfind('/') + 1);
  auto patch = c.Patch(location.c_str(), std::string(3 << 20, 'x'), "application/octet-stream");
  ASSERT_TRUE(patch);
  EXPECT_EQ(patch->status, 507) << patch->body;
  EXPECT_EQ(std::filesystem::file_size(uploads_dir("full") / id / "data"), 0u);
  std::string blob(200 * 1024, 'y');
  auto put = m_regd->client().Put((location + "?digest=" + sha256_of(blob)).c_str(), blob, "application/octet-stream");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 201) << put->body;
  auto get = m_regd->client().Get(("/v2/full/blobs/" + sha256_of(blob)).c_str());
  ASSERT_TRUE(get);
  EXPECT_EQ(get->body, blob);
}

}  // namespace
}  // namespace regd::testing
