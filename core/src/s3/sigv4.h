// AWS Signature Version 4 for S3 requests (the object-storage backend's requests, and the
// presigned blob URLs it can redirect clients to). Pure functions over a described request: no
// I/O, no clock; the caller passes the time. Debian 12 packages no maintained S3 client that can
// send arbitrary conditional headers (If-None-Match on PUT, which the backend's leases need), so
// requests are signed here with OpenSSL's HMAC-SHA256, following AWS's published algorithm.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace regd::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // temporary credentials only; sent as X-Amz-Security-Token
};

// Where requests go: the signing scope.
struct Scope {
  std::string region = "us-east-1";
  std::string service = "s3";
};

// A request as it will be sent. `path` is the raw object path ("/bucket/key with spaces"):
// it is percent-encoded here, each segment once, '/' kept (S3's rule). Query parameters and
// header values are raw too; header names in any case.
struct SignedRequest {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // must include Host
  std::string payload_hash;                                  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// The hex SHA-256 of `data` (the payload hash of a body in memory; of an empty body for GETs).
std::string sha256_hex(std::string_view data);

// Percent-encoding of RFC 3986 with only A-Z a-z 0-9 - _ . ~ left as they are; '/' too when
// `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

// "20130524T000000Z" for `time` (UTC).
std::string amz_date(std::chrono::system_clock::time_point time);

// The Authorization header value for `request` signed at `time` (which must also be its
// X-Amz-Date header). Every header of `request` is signed.
std::string authorization(const SignedRequest& request, const Credentials& credentials, const Scope& scope,
                          std::chrono::system_clock::time_point time);

// The query string (without '?') that makes `request` a presigned URL valid for `expires`
// from `time`: the X-Amz-* parameters, the request's own query, and X-Amz-Signature last. Only
// Host is signed; the payload is UNSIGNED-PAYLOAD.
std::string presigned_query(const SignedRequest& request, const Credentials& credentials, const Scope& scope,
                            std::chrono::system_clock::time_point time, std::chrono::seconds expires);

}  // namespace regd::s3
