// Opening a storage root by its scheme: a filesystem path (the POSIX backend) or
// s3://BUCKET[/PREFIX] (the S3 backend, docs/adr/0002-object-storage.md). regd and regctl both
// open their root through here; only regd_s3 links the S3 client.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "regd/error.h"
#include "regd/storage.h"

namespace regd {

// Where an s3:// root's service is and who we are to it. Empty fields fall back to the standard
// AWS variables: endpoint to AWS_ENDPOINT_URL_S3 then AWS_ENDPOINT_URL; region to AWS_REGION then
// AWS_DEFAULT_REGION then "us-east-1"; credentials to AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
// (and AWS_SESSION_TOKEN), else the shared credentials file (credentials_file, else
// AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) in section `profile` (else AWS_PROFILE,
// else "default").
struct S3Options {
  std::string endpoint;  // http://host:port or https://host[:port], no path
  std::string region;
  std::string credentials_file;
  std::string profile;
};

// True for "s3://...": the root names a bucket, not a directory.
bool is_s3_root(std::string_view root);

// Opens `root`. A filesystem root is created if missing (as make_posix_storage). An s3:// root's
// bucket must exist unless `create_bucket` is set (then it is made); the root is otherwise
// checked only as far as one request (the bucket's existence and our access to it).
// Errors: invalid_argument (a malformed s3:// root, no endpoint, no credentials), no_registry
// (the bucket does not exist), denied, io_error.
[[nodiscard]] Result<std::unique_ptr<Storage>> open_storage_root(const std::string& root, const S3Options& s3,
                                                                 bool create_bucket);

}  // namespace regd
