#include "regd/storage_root.h"

#include <cstdlib>
#include <fstream>

#include "s3/client.h"
#include "s3/storage.h"

namespace regd {

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string first_of(std::initializer_list<std::string> values) {
  for (const std::string& value : values) {
    if (!value.empty()) {
      return value;
    }
  }
  return "";
}

std::string trim(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) {
    return "";
  }
  auto end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

// Bucket names as S3 allows them: 3-63 of a-z 0-9 . -, starting and ending alphanumeric.
bool valid_bucket(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '-') {
      return false;
    }
  }
  return alnum(name.front()) && alnum(name.back());
}

// The aws_access_key_id, aws_secret_access_key and aws_session_token of [profile] in an AWS
// shared credentials file. Errors: invalid_argument (unreadable, or the profile lacks a key).
Result<s3::Credentials> credentials_from_file(const std::string& path, const std::string& profile) {
  std::ifstream in(path);
  if (!in) {
    return fail(Errc::invalid_argument, "cannot read the S3 credentials file " + path);
  }
  s3::Credentials credentials;
  std::string line;
  bool in_profile = false;
  while (std::getline(in, line)) {
    std::string text = trim(line);
    if (text.empty() || text.front() == '#' || text.front() == ';') {
      continue;
    }
    if (text.front() == '[') {
      in_profile = trim(std::string_view(text).substr(1, text.find(']') - 1)) == profile;
      continue;
    }
    auto eq = text.find('=');
    if (!in_profile || eq == std::string::npos) {
      continue;
    }
    std::string name = trim(std::string_view(text).substr(0, eq));
    std::string value = trim(std::string_view(text).substr(eq + 1));
    if (name == "aws_access_key_id") {
      credentials.access_key = value;
    } else if (name == "aws_secret_access_key") {
      credentials.secret_key = value;
    } else if (name == "aws_session_token") {
      credentials.session_token = value;
    }
  }
  if (credentials.access_key.empty() || credentials.secret_key.empty()) {
    return fail(Errc::invalid_argument, "the S3 credentials file " + path + " has no aws_access_key_id and " +
                                            "aws_secret_access_key in [" + profile + "]");
  }
  return credentials;
}

// An explicit file first, then the environment's keys, then the default file.
Result<s3::Credentials> find_credentials(const S3Options& options) {
  std::string profile = first_of({options.profile, env("AWS_PROFILE"), "default"});
  if (!options.credentials_file.empty()) {
    return credentials_from_file(options.credentials_file, profile);
  }
  if (!env("AWS_ACCESS_KEY_ID").empty() && !env("AWS_SECRET_ACCESS_KEY").empty()) {
    return s3::Credentials{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
  }
  std::string file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty()) {
    file = env("HOME") + "/.aws/credentials";
  }
  if (!file.empty() && std::ifstream(file)) {
    return credentials_from_file(file, profile);
  }
  return fail(Errc::invalid_argument,
              "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a credentials file");
}

Result<std::unique_ptr<Storage>> open_s3_root(const std::string& root, const S3Options& options, bool create_bucket) {
  std::string rest = root.substr(5);
  while (rest.ends_with('/')) {
    rest.pop_back();
  }
  auto slash = rest.find('/');
  std::string bucket = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (!valid_bucket(bucket)) {
    return fail(Errc::invalid_argument,
                "storage root " + root + ": not a bucket name (3-63 characters of a-z, 0-9, '.' and '-')");
  }
  if (!prefix.empty()) {
    if (auto valid = check_storage_path(prefix); !valid) {
      return fail(Errc::invalid_argument, "storage root " + root + ": the prefix has an empty, \".\" or \"..\" part");
    }
  }
  s3::Endpoint endpoint;
  endpoint.url = first_of({options.endpoint, env("AWS_ENDPOINT_URL_S3"), env("AWS_ENDPOINT_URL")});
  while (endpoint.url.ends_with('/')) {
    endpoint.url.pop_back();
  }
  if (endpoint.url.empty()) {
    return fail(Errc::invalid_argument,
                "storage root " + root + ": no S3 endpoint (set the S3 endpoint option or " + "AWS_ENDPOINT_URL)");
  }
  auto scheme = endpoint.url.find("://");
  if (!(endpoint.url.starts_with("http://") || endpoint.url.starts_with("https://")) ||
      endpoint.url.find('/', scheme + 3) != std::string::npos) {
    return fail(Errc::invalid_argument,
                "S3 endpoint " + endpoint.url + ": must be http://HOST[:PORT] or https://HOST[:PORT], without a path");
  }
  endpoint.bucket = bucket;
  endpoint.scope.region = first_of({options.region, env("AWS_REGION"), env("AWS_DEFAULT_REGION"), "us-east-1"});
  auto credentials = find_credentials(options);
  if (!credentials) {
    return std::unexpected(credentials.error());
  }
  endpoint.credentials = std::move(*credentials);

  s3::Client client(endpoint);
  auto found = client.head_bucket();
  if (!found && found.error().code == Errc::not_found && create_bucket) {
    found = client.create_bucket();
  }
  if (!found) {
    switch (found.error().code) {
      case Errc::not_found:
        return fail(Errc::no_registry,
                    "storage root " + root + ": bucket " + bucket + " does not exist at " + endpoint.url);
      case Errc::denied:
        return fail(Errc::denied, "storage root " + root + ": access to bucket " + bucket +
                                      " denied (check the credentials and the bucket's policy)");
      default:
        return fail(found.error().code, "storage root " + root + ": " + found.error().message);
    }
  }
  return s3::make_storage(std::move(endpoint), std::move(prefix));
}

}  // namespace

bool is_s3_root(std::string_view root) {
  return root.starts_with("s3://");
}

Result<std::unique_ptr<Storage>> open_storage_root(const std::string& root, const S3Options& s3, bool create_bucket) {
  if (is_s3_root(root)) {
    return open_s3_root(root, s3, create_bucket);
  }
  return make_posix_storage(root);
}

}  // namespace regd
