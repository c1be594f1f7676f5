// The s3:// storage root options (docs/regd.md, "S3 storage (s3://)"), kept apart from config.cc.
#include <CLI/CLI.hpp>

#include "config.h"
#include "regd/duration.h"
#include "regd/storage_root.h"

namespace regd::daemon {

namespace {

// SigV4 refuses presigned URLs valid for longer than 7 days.
constexpr std::chrono::seconds k_max_redirect_ttl{7 * 24 * 3600};

// The first s3 option holding other than its default, by flag name; empty when none does.
// `ttl` is --s3-redirect-ttl parsed.
std::string first_s3_option_set(const S3Config& s3, std::chrono::seconds ttl) {
  for (const auto& [flag, value] :
       {std::pair{"--s3-endpoint", &s3.endpoint}, std::pair{"--s3-region", &s3.region},
        std::pair{"--s3-credentials", &s3.credentials}, std::pair{"--s3-profile", &s3.profile}}) {
    if (!value->empty()) {
      return flag;
    }
  }
  if (s3.redirect) {
    return "--s3-redirect";
  }
  // Compared as durations: "1200s" is the default too.
  if (ttl != *parse_duration(S3Config{}.redirect_ttl)) {
    return "--s3-redirect-ttl";
  }
  return {};
}

}  // namespace

void add_s3_options(CLI::App& app, S3Config& s) {
  app.add_option("--s3-endpoint", s.endpoint,
                 "S3 service of an s3:// --root, http://HOST:PORT or https://HOST[:PORT] (default: "
                 "AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL)")
      ->envname("REGD_S3_ENDPOINT");
  app.add_option("--s3-region", s.region,
                 "Region an s3:// --root's requests are signed for (default: AWS_REGION, then AWS_DEFAULT_REGION, "
                 "then us-east-1)")
      ->envname("REGD_S3_REGION");
  app.add_option("--s3-credentials", s.credentials,
                 "Shared credentials file (AWS format) for an s3:// --root (default: AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY, then the file AWS_SHARED_CREDENTIALS_FILE, then ~/.aws/credentials)")
      ->envname("REGD_S3_CREDENTIALS");
  app.add_option("--s3-profile", s.profile, "Section of the credentials file (default: AWS_PROFILE, then 'default')")
      ->envname("REGD_S3_PROFILE");
  app.add_flag("--s3-redirect", s.redirect,
               "Blob GETs answer 307 to a presigned URL of the object store instead of sending the bytes (s3:// "
               "--root; clients must reach the store)")
      ->envname("REGD_S3_REDIRECT");
  app.add_option("--s3-redirect-ttl", s.redirect_ttl, "How long a --s3-redirect URL stays valid (1s to 7d)")
      ->envname("REGD_S3_REDIRECT_TTL")
      ->capture_default_str();
}

Status validate_s3_config(const Config& c) {
  auto ttl = parse_duration(c.s3.redirect_ttl);
  if (!ttl) {
    return fail(Errc::invalid_argument, "--s3-redirect-ttl: " + ttl.error().message);
  }
  if (*ttl < std::chrono::seconds(1) || *ttl > k_max_redirect_ttl) {
    return fail(Errc::invalid_argument, "--s3-redirect-ttl must be from 1s to 7d (a presigned URL's lifetime)");
  }
  if (is_s3_root(c.root)) {
    return {};
  }
  if (auto flag = first_s3_option_set(c.s3, *ttl); !flag.empty()) {
    return fail(
        Errc::invalid_argument,
        flag + " applies only to an s3:// storage root (--root s3://BUCKET[/PREFIX]), and the root is " + c.root);
  }
  return {};
}

std::chrono::seconds s3_redirect_ttl(const Config& c) {
  return *parse_duration(c.s3.redirect_ttl);
}

}  // namespace regd::daemon
