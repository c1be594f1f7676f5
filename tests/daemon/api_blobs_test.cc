// Blob reads: caching headers, conditional requests, byte ranges, deletes, malformed digests.
#include "regd_process.h"

namespace regd::testing {
namespace {

using Blobs = RegdTest;

TEST_F(Blobs, GetHasImmutableCachingHeaders) {
  auto c = client();
  auto data = random_bytes(10000);
  auto digest = push_blob(c, "cache", data);
  auto r = c.Get(("/v2/cache/blobs/" + digest).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("ETag"), "\"" + digest + "\"");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(r->get_header_value("Docker-Content-Digest"), digest);
  EXPECT_EQ(r->get_header_value("Content-Length"), "10000");
  EXPECT_EQ(r->body, data);
}

TEST_F(Blobs, IfNoneMatchIsNotModified) {
  auto c = client();
  auto digest = push_blob(c, "cache", random_bytes(100));
  for (auto method : {"GET", "HEAD"}) {
    httplib::Request req;
    req.method = method;
    req.path = "/v2/cache/blobs/" + digest;
    req.headers = {{"If-None-Match", "\"" + digest + "\""}};
    auto r = c.send(req);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 304) << method;
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(r->get_header_value("ETag"), "\"" + digest + "\"");
  }
  auto other = c.Get(("/v2/cache/blobs/" + digest).c_str(), {{"If-None-Match", "\"sha256:other\""}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST_F(Blobs, RangeRequestsArePartialContent) {
  auto c = client();
  auto data = random_bytes(1000);
  auto digest = push_blob(c, "ranges", data);
  auto path = "/v2/ranges/blobs/" + digest;
  struct Case {
    const char* range;
    size_t first;
    size_t last;
  };
  for (auto [range, first, last] : {Case{"bytes=10-19", 10, 19}, Case{"bytes=990-", 990, 999},
                                    Case{"bytes=-5", 995, 999}, Case{"bytes=900-5000", 900, 999}}) {
    auto r = c.Get(path.c_str(), {{"Range", range}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 206) << range;
    EXPECT_EQ(r->body, data.substr(first, last - first + 1)) << range;
    EXPECT_EQ(r->get_header_value("Content-Range"),
              "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/1000");
  }
}

TEST_F(Blobs, UnsatisfiableRangeIs416WithTheSize) {
  auto c = client();
  auto digest = push_blob(c, "ranges", random_bytes(1000));
  auto r = c.Get(("/v2/ranges/blobs/" + digest).c_str(), {{"Range", "bytes=1000-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes */1000");
  EXPECT_EQ(error_code(r->body), "RANGE_INVALID");
  // The connection is still usable afterwards: the body length was right.
  EXPECT_EQ(c.Get("/v2/")->status, 200);
}

TEST_F(Blobs, MultipleRangesGetTheWholeBlob) {
  auto c = client();
  auto data = random_bytes(1000);
  auto digest = push_blob(c, "ranges", data);
  auto r = c.Get(("/v2/ranges/blobs/" + digest).c_str(), {{"Range", "bytes=0-1,5-6"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, data);
}

TEST_F(Blobs, UnknownBlobIsBlobUnknown) {
  auto c = client();
  push_blob(c, "repo", "x");
  auto r = c.Get(("/v2/repo/blobs/" + sha256_of("nothing")).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_code(r->body), "BLOB_UNKNOWN");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  auto head = c.Head(("/v2/repo/blobs/" + sha256_of("nothing")).c_str());
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
}

TEST_F(Blobs, ABlobIsOnlyServedByRepositoriesLinkingIt) {
  auto c = client();
  auto digest = push_blob(c, "mine", "private bytes");
  auto r = c.Get(("/v2/theirs/blobs/" + digest).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(Blobs, DeleteUnlinksTheBlob) {
  auto c = client();
  auto digest = push_blob(c, "del", "bytes to delete");
  auto r = c.Delete(("/v2/del/blobs/" + digest).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(c.Head(("/v2/del/blobs/" + digest).c_str())->status, 404);
  auto again = c.Delete(("/v2/del/blobs/" + digest).c_str());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
  EXPECT_EQ(error_code(again->body), "BLOB_UNKNOWN");
}

TEST_F(Blobs, MalformedDigestsAreBadRequests) {
  auto c = client();
  std::vector<std::string> digests = {
      "sha256:abc", "sha256:" + std::string(64, 'G'), "nodigest",
      "sha256:",    "sha256:" + std::string(64, 'A'), "md5:d41d8cd98f00b204e9800998ecf8427e"};
  for (const auto& digest : digests) {
    auto r = c.Get(("/v2/repo/blobs/" + digest).c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << digest;
    EXPECT_TRUE(error_code(r->body) == "DIGEST_INVALID" || error_code(r->body) == "UNSUPPORTED") << r->body;
  }
}

TEST_F(Blobs, WrongMethodIs405) {
  auto c = client();
  auto r = c.Put(("/v2/repo/blobs/" + sha256_of("x")).c_str(), "", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(error_code(r->body), "UNSUPPORTED");
}

}  // namespace
}  // namespace regd::testing
