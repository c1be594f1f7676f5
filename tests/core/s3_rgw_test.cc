// SigV4 (core/src/s3/sigv4.h) against a real S3 implementation: Ceph's radosgw, brought up by
// tests/scale/s3_rgw_test.sh, which passes S3_ENDPOINT, S3_REGION, AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY. Skipped without them.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "s3/client.h"
#include "s3/sigv4.h"
#include "test_util.h"

namespace regd::s3 {
namespace {

class Rgw : public ::testing::Test {
 protected:
  void SetUp() override {
    m_endpoint = testing::env_or_empty("S3_ENDPOINT");
    m_credentials = {testing::env_or_empty("AWS_ACCESS_KEY_ID"), testing::env_or_empty("AWS_SECRET_ACCESS_KEY"), ""};
    if (m_endpoint.empty() || m_credentials.access_key.empty()) {
      GTEST_SKIP() << "no S3 endpoint (tests/scale/s3_rgw_test.sh brings up radosgw)";
    }
    m_scope.region = testing::env_or_empty("S3_REGION").empty() ? "us-east-1" : testing::env_or_empty("S3_REGION");
    m_host = m_endpoint.substr(m_endpoint.find("://") + 3);
    m_client = std::make_unique<httplib::Client>(m_endpoint);
    m_client->set_url_encode(false);  // paths are sent as they were signed
    ASSERT_EQ(send("PUT", "/" + m_bucket).status, 200);
  }

  struct Answer {
    int status = 0;
    std::string body;
  };

  // Sends a request signed with `credentials` (the test's own unless given).
  Answer send(const std::string& method, const std::string& path, const std::string& body = "",
              const httplib::Headers& extra = {}, const Credentials* credentials = nullptr) {
    auto now = std::chrono::system_clock::now();
    SignedRequest request{method, path, {}, {{"Host", m_host}}, sha256_hex(body)};
    request.headers.emplace_back("x-amz-date", amz_date(now));
    request.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
    for (const auto& [name, value] : extra) {
      request.headers.emplace_back(name, value);
    }
    httplib::Headers headers(extra.begin(), extra.end());
    headers.emplace("x-amz-date", amz_date(now));
    headers.emplace("x-amz-content-sha256", request.payload_hash);
    headers.emplace("Authorization", authorization(request, credentials ? *credentials : m_credentials, m_scope, now));
    std::string target = uri_encode(path, true);
    auto result = method == "GET"   ? m_client->Get(target, headers)
                  : method == "PUT" ? m_client->Put(target, headers, body, "application/octet-stream")
                                    : m_client->Delete(target, headers);
    EXPECT_TRUE(result) << method << " " << path;
    return result ? Answer{result->status, result->body} : Answer{};
  }

  std::string m_endpoint;
  std::string m_host;
  Credentials m_credentials;
  Scope m_scope;
  std::string m_bucket = "regd-sigv4";
  std::unique_ptr<httplib::Client> m_client;
};

// Keys as the registry layout makes them, and characters that encoding gets wrong.
TEST_F(Rgw, SignedRequestsOnAwkwardKeysAreAccepted) {
  for (const std::string key : {"docker/registry/v2/blobs/sha256/ab/abcdef/data", "a b+c$=&,;:@!'()*.txt"}) {
    std::string path = "/" + m_bucket + "/" + key;
    ASSERT_EQ(send("PUT", path, "object bytes " + key).status, 200) << key;
    auto got = send("GET", path);
    EXPECT_EQ(got.status, 200) << key << ": " << got.body;
    EXPECT_EQ(got.body, "object bytes " + key);
    auto range = send("GET", path, "", {{"Range", "bytes=7-11"}});
    EXPECT_EQ(range.status, 206);
    EXPECT_EQ(range.body, "bytes");
    EXPECT_EQ(send("DELETE", path).status, 204);
    EXPECT_EQ(send("GET", path).status, 404);
  }
}

// What leases and locks will stand on: a create that loses to an existing key is refused.
TEST_F(Rgw, ConditionalCreateHasOneWinner) {
  std::string path = "/" + m_bucket + "/lease";
  (void)send("DELETE", path);
  EXPECT_EQ(send("PUT", path, "first", {{"If-None-Match", "*"}}).status, 200);
  EXPECT_EQ(send("PUT", path, "second", {{"If-None-Match", "*"}}).status, 412);
  EXPECT_EQ(send("GET", path).body, "first");
}

TEST_F(Rgw, AWrongSecretIsRefused) {
  Credentials wrong = m_credentials;
  wrong.secret_key += "x";
  auto answer = send("GET", "/" + m_bucket + "/lease", "", {}, &wrong);
  EXPECT_EQ(answer.status, 403);
  EXPECT_NE(answer.body.find("SignatureDoesNotMatch"), std::string::npos) << answer.body;
}

TEST_F(Rgw, APresignedUrlServesTheObjectUntilItExpires) {
  std::string path = "/" + m_bucket + "/presigned object";
  ASSERT_EQ(send("PUT", path, "for a CDN").status, 200);
  SignedRequest get{"GET", path, {}, {{"Host", m_host}}, ""};
  auto now = std::chrono::system_clock::now();
  std::string url =
      uri_encode(path, true) + "?" + presigned_query(get, m_credentials, m_scope, now, std::chrono::seconds(2));
  httplib::Client anonymous(m_endpoint);
  anonymous.set_url_encode(false);
  auto fresh = anonymous.Get(url);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->status, 200);
  EXPECT_EQ(fresh->body, "for a CDN");
  std::string tampered = url;
  tampered.replace(tampered.find("X-Amz-Expires=2"), 15, "X-Amz-Expires=9");
  auto changed = anonymous.Get(tampered);
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->status, 403);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto late = anonymous.Get(url);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 403);
}

// The client (s3/client.h) over the same gateway, in its own bucket.
class RgwClient : public Rgw {
 protected:
  void SetUp() override {
    Rgw::SetUp();
    if (IsSkipped()) {
      return;
    }
    ASSERT_EQ(send("PUT", "/regd-client").status, 200);
    m_s3 = std::make_unique<Client>(Endpoint{m_endpoint, "regd-client", m_scope, m_credentials, ""});
  }
  std::unique_ptr<Client> m_s3;
};

TEST_F(RgwClient, ObjectsConditionalCreateCopyAndErrors) {
  const std::string key = "docker/registry/v2/repositories/a b/_manifests/tags/v1/current/link";
  ASSERT_OK(m_s3->remove(key));
  auto missing = m_s3->head(key);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  auto created = m_s3->put(key, "sha256:1234", true);
  ASSERT_OK(created);
  EXPECT_FALSE(created->empty());
  auto again = m_s3->put(key, "sha256:5678", true);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::exists);
  auto body = m_s3->get(key, 100);
  ASSERT_OK(body);
  EXPECT_EQ(*body, "sha256:1234");
  auto small = m_s3->get(key, 4);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().code, Errc::too_large);
  auto info = m_s3->head(key);
  ASSERT_OK(info);
  EXPECT_EQ(info->size, 11u);
  EXPECT_LE(std::chrono::abs(info->last_modified - std::chrono::system_clock::now()), std::chrono::minutes(5));
  // A copy onto itself refreshes LastModified (link freshness, docs/adr/0002).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_OK(m_s3->copy(key, key));
  auto refreshed = m_s3->head(key);
  ASSERT_OK(refreshed);
  EXPECT_GT(refreshed->last_modified, info->last_modified);
  ASSERT_OK(m_s3->copy(key, key + ".copy"));
  EXPECT_EQ(*m_s3->get(key + ".copy", 100), "sha256:1234");
  ASSERT_OK(m_s3->remove(key));
  ASSERT_OK(m_s3->remove(key));  // missing is success
  auto gone = m_s3->copy(key, key + ".again");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);
  Client wrong(Endpoint{m_endpoint, "regd-client", m_scope, {m_credentials.access_key, "wrong", ""}, ""});
  auto refused = wrong.head(key + ".copy");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::denied);
  EXPECT_EQ(refused.error().message.find(m_credentials.secret_key), std::string::npos);
}

TEST_F(RgwClient, ListingsByPrefixAndDelimiterWithContinuation) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_OK(m_s3->put("list/repositories/r" + std::to_string(100 + i) + "/_manifests/x", "x"));
  }
  ASSERT_OK(m_s3->put("list/repositories/file", "f"));
  std::vector<std::string> prefixes;
  std::vector<std::string> objects;
  std::string token;
  int pages = 0;
  do {
    auto page = m_s3->list("list/repositories/", "/", token, 10);
    ASSERT_OK(page);
    prefixes.insert(prefixes.end(), page->prefixes.begin(), page->prefixes.end());
    for (const auto& object : page->objects) {
      objects.push_back(object.key);
    }
    token = page->next_token;
  } while (!token.empty() && ++pages < 10);
  EXPECT_EQ(pages, 2) << "26 entries in pages of 10";
  ASSERT_EQ(prefixes.size(), 25u);
  EXPECT_EQ(prefixes.front(), "list/repositories/r100/");
  EXPECT_TRUE(std::is_sorted(prefixes.begin(), prefixes.end()));
  EXPECT_EQ(objects, std::vector<std::string>{"list/repositories/file"});
}

TEST_F(RgwClient, MultipartUploadAndRangedReadsStream) {
  const std::string key = "docker/registry/v2/blobs/sha256/ab/abcd/data";
  std::string part1(5 * 1024 * 1024, 'a');
  std::string part2 = "the tail";
  ASSERT_OK(m_s3->remove(key));  // a gateway kept from an earlier run
  auto id = m_s3->create_multipart(key);
  ASSERT_OK(id);
  auto e1 = m_s3->upload_part(key, *id, 1, part1);
  ASSERT_OK(e1);
  auto e2 = m_s3->upload_part(key, *id, 2, part2);
  ASSERT_OK(e2);
  EXPECT_FALSE(m_s3->head(key)) << "invisible until completed";
  ASSERT_OK(m_s3->complete_multipart(key, *id, {{1, *e1}, {2, *e2}}));
  auto info = m_s3->head(key);
  ASSERT_OK(info);
  EXPECT_EQ(info->size, part1.size() + part2.size());
  std::string got;
  size_t pieces = 0;
  ASSERT_OK(m_s3->get_range(key, part1.size() - 3, 6, [&](std::span<const char> data) {
    got.append(data.data(), data.size());
    ++pieces;
    return true;
  }));
  EXPECT_EQ(got, "aaathe");
  uint64_t total = 0;
  ASSERT_OK(m_s3->get_range(key, 0, info->size, [&](std::span<const char> data) {
    total += data.size();
    ++pieces;
    return true;
  }));
  EXPECT_EQ(total, info->size);
  EXPECT_GT(pieces, 2u) << "the body arrives in pieces, not whole";
  auto stopped = m_s3->get_range(key, 0, info->size, [](std::span<const char>) { return false; });
  EXPECT_FALSE(stopped);
  // A part below the 5 MiB minimum before the last one is refused at completion.
  auto bad = m_s3->create_multipart(key + ".bad");
  ASSERT_OK(bad);
  auto b1 = m_s3->upload_part(key + ".bad", *bad, 1, part2);
  auto b2 = m_s3->upload_part(key + ".bad", *bad, 2, part2);
  ASSERT_OK(b1);
  ASSERT_OK(b2);
  auto refused = m_s3->complete_multipart(key + ".bad", *bad, {{1, *b1}, {2, *b2}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_argument) << refused.error().message;
  ASSERT_OK(m_s3->abort_multipart(key + ".bad", *bad));
  EXPECT_FALSE(m_s3->head(key + ".bad"));
}

}  // namespace
}  // namespace regd::s3
