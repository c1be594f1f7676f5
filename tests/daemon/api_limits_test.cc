// Rate limits and quotas (docs/security.md, "Rate limits and quotas"): 429 TOOMANYREQUESTS with
// Retry-After per client address (X-Forwarded-For believed only from --trusted-proxies), per
// user, for uploads in flight and open sessions; the ?tag= cap; the size limits.
#include "auth_fixture.h"
#include "regd_process.h"

namespace regd::testing {
namespace {

namespace fs = std::filesystem;

int retry_after(const httplib::Result& r) {
  return r && r->has_header("Retry-After") ? std::stoi(r->get_header_value("Retry-After")) : -1;
}

void expect_too_many(const httplib::Result& r) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429) << r->body;
  EXPECT_EQ(error_code(r->body), "TOOMANYREQUESTS");
  EXPECT_GE(retry_after(r), 1);
}

TEST(Limits, PerAddressRateLimitAnswers429WithRetryAfter) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--rate-limit-address", "0.2", "--rate-limit-burst", "3"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.Get("/v2/")->status, 200) << i;
  }
  auto refused = c.Get("/v2/");
  expect_too_many(refused);
  EXPECT_EQ(retry_after(refused), 5);                // one token at 0.2/s
  EXPECT_EQ(c.Get("/v2/x/tags/list")->status, 429);  // every route counts
  EXPECT_EQ(c.Get("/healthz")->status, 200);         // probes do not
  EXPECT_EQ(c.Get("/readyz")->status, 200);
}

// X-Forwarded-For names the client only when the peer is a trusted proxy; otherwise the header
// is the client's own claim and a new value per request must not buy new buckets.
TEST(Limits, ForwardedForIsBelievedOnlyFromTrustedProxies) {
  TempDir tmp;
  RegdProcess trusting(tmp.path() / "root",
                       {"--rate-limit-address", "0.01", "--rate-limit-burst", "1", "--trusted-proxies", "127.0.0.0/8"});
  RegdProcess direct(tmp.path() / "root", {"--rate-limit-address", "0.01", "--rate-limit-burst", "1"});
  ASSERT_TRUE(trusting.ready());
  ASSERT_TRUE(direct.ready());
  auto c = trusting.client();
  EXPECT_EQ(c.Get("/v2/", httplib::Headers{{"X-Forwarded-For", "198.51.100.1"}})->status, 200);
  expect_too_many(c.Get("/v2/", httplib::Headers{{"X-Forwarded-For", "198.51.100.1"}}));
  EXPECT_EQ(c.Get("/v2/", httplib::Headers{{"X-Forwarded-For", "198.51.100.2"}})->status, 200);
  // What the client wrote left of the proxy's entry is not believed.
  expect_too_many(c.Get("/v2/", httplib::Headers{{"X-Forwarded-For", "203.0.113.50, 198.51.100.2"}}));
  // No header: the proxy itself.
  EXPECT_EQ(c.Get("/v2/")->status, 200);
  expect_too_many(c.Get("/v2/"));

  auto d = direct.client();
  EXPECT_EQ(d.Get("/v2/", httplib::Headers{{"X-Forwarded-For", "198.51.100.3"}})->status, 200);
  expect_too_many(d.Get("/v2/", httplib::Headers{{"X-Forwarded-For", "198.51.100.4"}}));
}

TEST(Limits, PerUserRateLimitWithBasicAuth) {
  TempDir tmp;
  auto htpasswd = htpasswd_file(tmp.path(), {{"alice", "alice-pw"}, {"bob", "bob-pw"}});
  RegdProcess regd(tmp.path() / "root",
                   {"--htpasswd", htpasswd, "--rate-limit-user", "0.01", "--rate-limit-burst", "2"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  httplib::Headers alice = {{"Authorization", basic_header("alice", "alice-pw")}};
  httplib::Headers bob = {{"Authorization", basic_header("bob", "bob-pw")}};
  EXPECT_EQ(c.Get("/v2/", alice)->status, 200);
  EXPECT_EQ(c.Get("/v2/", alice)->status, 200);
  auto refused = c.Get("/v2/", alice);
  expect_too_many(refused);
  EXPECT_EQ(retry_after(refused), 100);
  EXPECT_EQ(c.Get("/v2/", bob)->status, 200);  // same address, another user
  // The user limit comes after authentication: wrong credentials are 401, not 429.
  EXPECT_EQ(c.Get("/v2/", {{"Authorization", basic_header("alice", "wrong")}})->status, 401);
}

// Each instance limits on its own: two instances over one root admit twice the burst.
TEST(Limits, EachInstanceEnforcesItsOwnLimit) {
  TempDir tmp;
  std::vector<std::string> flags = {"--rate-limit-address", "0.01", "--rate-limit-burst", "2"};
  RegdProcess a(tmp.path() / "root", flags);
  RegdProcess b(tmp.path() / "root", flags);
  ASSERT_TRUE(a.ready());
  ASSERT_TRUE(b.ready());
  int admitted = 0;
  for (RegdProcess* regd : {&a, &b}) {
    auto c = regd->client();
    for (int i = 0; i < 5; ++i) {
      auto r = c.Get("/v2/");
      ASSERT_TRUE(r);
      admitted += r->status == 200 ? 1 : 0;
      EXPECT_TRUE(r->status == 200 || r->status == 429) << r->status;
    }
  }
  EXPECT_EQ(admitted, 4);  // limit x instances
}

TEST(Limits, ConcurrentUploadsAreCapped) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--max-concurrent-uploads", "1"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  auto start = c.Post("/v2/app/blobs/uploads/", "", "");
  ASSERT_EQ(start->status, 202);
  std::string location = start->get_header_value("Location");
  {
    // One PATCH in flight: its body is announced but not all sent yet.
    RawConnection held(regd.port());
    ASSERT_TRUE(
        held.send("PATCH " + location +
                  " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n12345"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto data = std::string("blob while busy");
    expect_too_many(
        c.Post(("/v2/app/blobs/uploads/?digest=" + sha256_of(data)).c_str(), data, "application/octet-stream"));
    EXPECT_EQ(c.Get("/v2/")->status, 200);                             // no body: not an upload
    EXPECT_EQ(c.Post("/v2/app/blobs/uploads/", "", "")->status, 202);  // starting one has no body
    ASSERT_TRUE(held.send("67890"));
    auto response = held.read_response();
    EXPECT_NE(response.find(" 202 "), std::string::npos) << response;
  }
  auto data = std::string("blob after");
  auto r = c.Post(("/v2/app/blobs/uploads/?digest=" + sha256_of(data)).c_str(), data, "application/octet-stream");
  EXPECT_EQ(r->status, 201);
}

TEST(Limits, OpenSessionsPerRepositoryAreCapped) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--max-uploads-per-repository", "2"});
  RegdProcess other(tmp.path() / "root", {"--max-uploads-per-repository", "2"});
  ASSERT_TRUE(regd.ready());
  ASSERT_TRUE(other.ready());
  auto c = regd.client();
  auto first = c.Post("/v2/app/blobs/uploads/", "", "");
  ASSERT_EQ(first->status, 202);
  ASSERT_EQ(other.client().Post("/v2/app/blobs/uploads/", "", "")->status, 202);
  // Counted from storage: the session the other instance started counts here too.
  expect_too_many(c.Post("/v2/app/blobs/uploads/", "", ""));
  expect_too_many(other.client().Post("/v2/app/blobs/uploads/", "", ""));
  EXPECT_EQ(c.Post("/v2/elsewhere/blobs/uploads/", "", "")->status, 202);
  ASSERT_EQ(c.Delete(first->get_header_value("Location").c_str())->status, 204);
  EXPECT_EQ(c.Post("/v2/app/blobs/uploads/", "", "")->status, 202);
}

TEST(Limits, OpenSessionsPerUserAreCapped) {
  TempDir tmp;
  auto htpasswd = htpasswd_file(tmp.path(), {{"alice", "alice-pw"}, {"bob", "bob-pw"}});
  RegdProcess regd(tmp.path() / "root", {"--htpasswd", htpasswd, "--max-uploads-per-user", "2"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  httplib::Headers alice = {{"Authorization", basic_header("alice", "alice-pw")}};
  httplib::Headers bob = {{"Authorization", basic_header("bob", "bob-pw")}};
  auto first = c.Post("/v2/a/blobs/uploads/", alice, "", "");
  ASSERT_EQ(first->status, 202);
  ASSERT_EQ(c.Post("/v2/b/blobs/uploads/", alice, "", "")->status, 202);
  expect_too_many(c.Post("/v2/c/blobs/uploads/", alice, "", ""));
  EXPECT_EQ(c.Post("/v2/c/blobs/uploads/", bob, "", "")->status, 202);
  ASSERT_EQ(c.Delete(first->get_header_value("Location").c_str(), alice)->status, 204);
  EXPECT_EQ(c.Post("/v2/c/blobs/uploads/", alice, "", "")->status, 202);
}

TEST(Limits, TagsPerPushAreCapped) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--max-tags-per-push", "3"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  push_image(c, "app", "v0");
  std::string config = R"({"architecture":"amd64","os":"linux","seed":1})";
  auto manifest = image_manifest(config, {random_bytes(1001, 1)});
  auto r =
      c.Put("/v2/app/manifests/v1?tag=a&tag=b&tag=c&tag=d", manifest, "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "TAG_INVALID");
  EXPECT_NE(r->body.find("at most 3"), std::string::npos) << r->body;
  EXPECT_EQ(c.Get("/v2/app/manifests/a")->status, 404);  // nothing stored
  EXPECT_EQ(c.Get("/v2/app/manifests/v1")->status, 404);
  r = c.Put("/v2/app/manifests/v1?tag=a&tag=b&tag=c", manifest, "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(c.Get("/v2/app/manifests/c")->status, 200);
}

TEST(Limits, DefaultTagCapIs64) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root");
  ASSERT_TRUE(regd.ready());
  std::string query;
  for (int i = 0; i < 65; ++i) {
    query += (i == 0 ? "?tag=t" : "&tag=t") + std::to_string(i);
  }
  auto r =
      regd.client().Put(("/v2/app/manifests/v1" + query).c_str(), "{}", "application/vnd.oci.image.manifest.v1+json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "TAG_INVALID");
}

TEST(Limits, UploadBodyOverMaxUploadSizeIs413) {
  TempDir tmp;
  RegdProcess regd(tmp.path() / "root", {"--max-upload-size", "1000"});
  ASSERT_TRUE(regd.ready());
  auto c = regd.client();
  std::string data(2000, 'x');
  auto r = c.Post(("/v2/app/blobs/uploads/?digest=" + sha256_of(data)).c_str(), data, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_code(r->body), "SIZE_INVALID");
  auto start = c.Post("/v2/app/blobs/uploads/", "", "");
  ASSERT_EQ(start->status, 202);
  r = c.Patch(start->get_header_value("Location").c_str(), data, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_code(r->body), "SIZE_INVALID");
  std::string small(900, 'y');
  EXPECT_EQ(
      c.Post(("/v2/app/blobs/uploads/?digest=" + sha256_of(small)).c_str(), small, "application/octet-stream")->status,
      201);
}

TEST(Limits, OptionsAreCheckedAtStartup) {
  TempDir tmp;
  for (std::vector<std::string> flags : std::vector<std::vector<std::string>>{
           {"--trusted-proxies", "10.0.0.0/40"}, {"--rate-limit-address=-1"}, {"--rate-limit-entries", "0"}}) {
    RegdProcess regd(tmp.path() / "root", flags);
    EXPECT_FALSE(regd.ready()) << flags[0];
  }
  ::setenv("REGD_RATE_LIMIT_ADDRESS", "0.01", 1);
  ::setenv("REGD_RATE_LIMIT_BURST", "1", 1);
  RegdProcess env(tmp.path() / "root");
  ::unsetenv("REGD_RATE_LIMIT_ADDRESS");
  ::unsetenv("REGD_RATE_LIMIT_BURST");
  ASSERT_TRUE(env.ready());
  auto c = env.client();
  EXPECT_EQ(c.Get("/v2/")->status, 200);
  expect_too_many(c.Get("/v2/"));
}

}  // namespace
}  // namespace regd::testing
