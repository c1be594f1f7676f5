// SigV4 (core/src/s3/sigv4.h) against a real S3 implementation: Ceph's radosgw, brought up by
// tests/scale/s3_rgw_test.sh, which passes S3_ENDPOINT, S3_REGION, AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY. Skipped without them.
#include <chrono>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "s3/sigv4.h"

namespace regd::s3 {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

class Rgw : public ::testing::Test {
 protected:
  void SetUp() override {
    m_endpoint = env("S3_ENDPOINT");
    m_credentials = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), ""};
    if (m_endpoint.empty() || m_credentials.access_key.empty()) {
      GTEST_SKIP() << "no S3 endpoint (tests/scale/s3_rgw_test.sh brings up radosgw)";
    }
    m_scope.region = env("S3_REGION").empty() ? "us-east-1" : env("S3_REGION");
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

}  // namespace
}  // namespace regd::s3
