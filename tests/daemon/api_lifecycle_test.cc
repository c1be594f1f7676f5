// Many instances over one root, read-only instances, configuration sources, graceful shutdown.
#include <cstdlib>

#include "regd_process.h"

namespace regd::testing {
namespace {

TEST(Lifecycle, ChunkedUploadAcrossThreeInstances) {
  TempDir tmp;
  RegdProcess a(tmp.path() / "root"), b(tmp.path() / "root"), c(tmp.path() / "root");
  ASSERT_TRUE(a.ready() && b.ready() && c.ready());
  std::vector<httplib::Client> clients;
  clients.push_back(a.client());
  clients.push_back(b.client());
  clients.push_back(c.client());
  auto data = random_bytes(3 * 700000 + 11, 5);
  auto start = clients[0].Post("/v2/multi/blobs/uploads/", "", "application/octet-stream");
  ASSERT_TRUE(start && start->status == 202);
  auto location = start->get_header_value("Location");
  size_t offset = 0;
  for (int i = 0; i < 3; ++i) {
    size_t n = i < 2 ? 700000 : data.size() - offset;
    auto r = clients[(i + 1) % 3].Patch(
        location.c_str(), {{"Content-Range", std::to_string(offset) + "-" + std::to_string(offset + n - 1)}},
        data.substr(offset, n), "application/octet-stream");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    offset += n;
    location = r->get_header_value("Location");
    EXPECT_EQ(r->get_header_value("Range"), "0-" + std::to_string(offset - 1));
  }
  auto status = clients[1].Get(location.c_str());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->get_header_value("Range"), "0-" + std::to_string(data.size() - 1));
  auto done = clients[2].Put((location + "?digest=" + sha256_of(data)).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 201) << done->body;
  for (auto& cl : clients) {
    EXPECT_EQ(cl.Get(("/v2/multi/blobs/" + sha256_of(data)).c_str())->body, data);
  }
}

TEST(Lifecycle, ReadOnlyInstanceRefusesWrites) {
  TempDir tmp;
  RegdProcess rw(tmp.path() / "root");
  RegdProcess ro(tmp.path() / "root", {"--read-only"});
  ASSERT_TRUE(rw.ready() && ro.ready());
  auto w = rw.client();
  auto manifest = push_image(w, "ro", "v1");
  auto r = ro.client();
  EXPECT_EQ(r.Get("/v2/ro/manifests/v1")->body, manifest);
  for (auto method : {"POST", "PUT", "PATCH", "DELETE"}) {
    httplib::Request req;
    req.method = method;
    req.path = method == std::string("POST") ? "/v2/ro/blobs/uploads/" : "/v2/ro/manifests/v1";
    auto res = r.send(req);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 405) << method;
    EXPECT_EQ(error_code(res->body), "UNSUPPORTED");
  }
  EXPECT_EQ(r.Get("/v2/ro/manifests/v1")->status, 200);
}

TEST(Lifecycle, ConfigFileAndEnvironment) {
  TempDir tmp;
  auto config = tmp.path() / "regd.toml";
  std::ofstream(config) << "# regd test config\nread-only = true\nlog-format = \"text\"\n";
  ::setenv("REGD_MAX_MANIFEST_SIZE", "100", 1);
  RegdProcess ro(tmp.path() / "root", {"--config", config.string()});
  ::unsetenv("REGD_MAX_MANIFEST_SIZE");
  ASSERT_TRUE(ro.ready());
  EXPECT_EQ(ro.client().Post("/v2/x/blobs/uploads/", "", "")->status, 405);
  EXPECT_NE(ro.log().find(" info listening "), std::string::npos) << ro.log();

  ::setenv("REGD_MAX_MANIFEST_SIZE", "100", 1);
  RegdProcess small(tmp.path() / "root");
  ::unsetenv("REGD_MAX_MANIFEST_SIZE");
  ASSERT_TRUE(small.ready());
  auto r =
      small.client().Put("/v2/x/manifests/v1", std::string(200, ' '), "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(Lifecycle, SigtermLetsAnInFlightUploadFinish) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--drain-delay", "1", "--drain-timeout", "20"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto start = c.Post("/v2/drain/blobs/uploads/", "", "application/octet-stream");
  ASSERT_TRUE(start && start->status == 202);
  auto location = start->get_header_value("Location");
  auto data = random_bytes(2 * 1024 * 1024, 11);

  RawConnection conn(regd.port());
  ASSERT_TRUE(conn.send("PATCH " + location + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n" +
                        "Content-Length: " + std::to_string(data.size()) + "\r\n\r\n"));
  ASSERT_TRUE(conn.send(std::string_view(data).substr(0, data.size() / 2)));
  ASSERT_EQ(::kill(regd.pid(), SIGTERM), 0);
  // While draining, readiness fails so a load balancer stops sending traffic.
  int ready_status = 0;
  for (int i = 0; i < 50 && ready_status != 503; ++i) {
    auto r = regd.client().Get("/readyz");
    ready_status = r ? r->status : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ready_status, 503);
  ASSERT_TRUE(conn.send(std::string_view(data).substr(data.size() / 2)));
  auto response = conn.read_response();
  EXPECT_TRUE(response.starts_with("HTTP/1.1 202")) << response;
  EXPECT_NE(response.find("Range: 0-" + std::to_string(data.size() - 1)), std::string::npos) << response;
  EXPECT_EQ(regd.wait_exit(std::chrono::seconds(20)), 0);
  // The chunk is durable: a new instance finishes the upload.
  RegdProcess next(tmp.path() / "root");
  ASSERT_TRUE(next.ready());
  auto done = next.client().Put((location + "?digest=" + sha256_of(data)).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 201) << done->body;
}

TEST(Lifecycle, SigintStopsIdleServerWithExitZero) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root");
  ASSERT_TRUE(regd.ready());
  // An idle keep-alive connection must not hold the shutdown up.
  RawConnection idle(regd.port());
  idle.send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
  idle.read_response();
  EXPECT_EQ(regd.stop(SIGINT, std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace regd::testing
