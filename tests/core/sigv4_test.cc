// SigV4 signing (core/src/s3/sigv4.cc) against the examples AWS publishes for the algorithm and
// for S3: same inputs, same signatures.
#include "s3/sigv4.h"

#include <chrono>

#include <gtest/gtest.h>

namespace regd::s3 {
namespace {

using std::chrono::sys_days;

std::chrono::system_clock::time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  return sys_days(std::chrono::year(y) / m / d) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
         std::chrono::seconds(ss);
}

const Credentials k_s3_example{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const std::string k_empty_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string signature_of(const std::string& authorization) {
  return authorization.substr(authorization.rfind('=') + 1);
}

TEST(SigV4, Encoding) {
  EXPECT_EQ(uri_encode("a b/c~d_e-f.g", true), "a%20b/c~d_e-f.g");
  EXPECT_EQ(uri_encode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(uri_encode("$=&+", false), "%24%3D%26%2B");
  EXPECT_EQ(sha256_hex(""), k_empty_hash);
  EXPECT_EQ(amz_date(at(2013, 5, 24, 0, 0, 0)), "20130524T000000Z");
  EXPECT_EQ(amz_date(at(2015, 8, 30, 12, 36, 0)), "20150830T123600Z");
}

// The signature test suite's "get-vanilla".
TEST(SigV4, GetVanilla) {
  SignedRequest r{
      "GET", "/", {}, {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}, k_empty_hash};
  auto auth = authorization(r, {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""},
                            {"us-east-1", "service"}, at(2015, 8, 30, 12, 36, 0));
  EXPECT_EQ(auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

// S3's examples: GET Object with a Range, PUT Object, and ListObjects with a query.
TEST(SigV4, S3GetObject) {
  SignedRequest r{"GET",
                  "/test.txt",
                  {},
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"Range", "bytes=0-9"},
                   {"x-amz-content-sha256", k_empty_hash},
                   {"x-amz-date", "20130524T000000Z"}},
                  k_empty_hash};
  auto auth = authorization(r, k_s3_example, {}, at(2013, 5, 24, 0, 0, 0));
  EXPECT_NE(auth.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"), std::string::npos) << auth;
  EXPECT_EQ(signature_of(auth), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3PutObject) {
  std::string body = "Welcome to Amazon S3.";
  SignedRequest r{"PUT",
                  "/test$file.text",
                  {},
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                   {"x-amz-date", "20130524T000000Z"},
                   {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                   {"x-amz-content-sha256", sha256_hex(body)}},
                  sha256_hex(body)};
  EXPECT_EQ(sha256_hex(body), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto auth = authorization(r, k_s3_example, {}, at(2013, 5, 24, 0, 0, 0));
  EXPECT_EQ(signature_of(auth), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, S3ListObjects) {
  SignedRequest r{"GET",
                  "/",
                  {{"max-keys", "2"}, {"prefix", "J"}},
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"x-amz-content-sha256", k_empty_hash},
                   {"x-amz-date", "20130524T000000Z"}},
                  k_empty_hash};
  auto auth = authorization(r, k_s3_example, {}, at(2013, 5, 24, 0, 0, 0));
  EXPECT_EQ(signature_of(auth), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, S3PresignedGet) {
  SignedRequest r{"GET", "/test.txt", {}, {{"Host", "examplebucket.s3.amazonaws.com"}}, ""};
  auto query = presigned_query(r, k_s3_example, {}, at(2013, 5, 24, 0, 0, 0), std::chrono::hours(24));
  EXPECT_EQ(query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%"
            "2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-"
            "Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

}  // namespace
}  // namespace regd::s3
