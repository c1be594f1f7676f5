// The distribution API as a client, over HttpSession (remote_http.h).
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "regd/manifest.h"
#include "regd/remote.h"
#include "remote_http.h"

namespace regd::remote {

namespace {

constexpr size_t k_max_manifest = 4 * 1024 * 1024;
constexpr int k_max_upload_attempts = 3;
constexpr int k_max_tag_pages = 10000;

const std::string k_manifest_accept =
    std::string(media_type::oci_manifest) + ", " + std::string(media_type::oci_index) + ", " +
    std::string(media_type::docker_manifest) + ", " + std::string(media_type::docker_list) +
    ", application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5";

std::string pull_scope(std::string_view repo) {
  return "repository:" + std::string(repo) + ":pull";
}
std::string push_scope(std::string_view repo) {
  return "repository:" + std::string(repo) + ":pull,push";
}

Errc errc_for_code(std::string_view code, Errc fallback) {
  static const std::map<std::string_view, Errc> k_codes{
      {"MANIFEST_UNKNOWN", Errc::manifest_unknown},
      {"NAME_UNKNOWN", Errc::name_unknown},
      {"BLOB_UNKNOWN", Errc::blob_unknown},
      {"MANIFEST_INVALID", Errc::manifest_invalid},
      {"MANIFEST_BLOB_UNKNOWN", Errc::manifest_blob_unknown},
      {"DIGEST_INVALID", Errc::digest_invalid},
      {"NAME_INVALID", Errc::name_invalid},
      {"TAG_INVALID", Errc::tag_invalid},
      {"SIZE_INVALID", Errc::size_invalid},
      {"BLOB_UPLOAD_UNKNOWN", Errc::upload_unknown},
      {"BLOB_UPLOAD_INVALID", Errc::range_invalid},
      {"UNSUPPORTED", Errc::unsupported},
      {"DENIED", Errc::denied},
      {"UNAUTHORIZED", Errc::denied},
  };
  auto it = k_codes.find(code);
  return it == k_codes.end() ? fallback : it->second;
}

Errc errc_for_status(int status, Errc not_found) {
  switch (status) {
    case 401:
    case 403:
      return Errc::denied;
    case 404:
      return not_found;
    case 413:
      return Errc::too_large;
    case 416:
      return Errc::range_invalid;
    default:
      return Errc::io_error;
  }
}

// The error of an unexpected answer: the spec error code of the body when there is one.
std::unexpected<Error> answer_error(const std::string& what, const HttpResponse& response, Errc not_found) {
  Errc code = errc_for_status(response.status, not_found);
  std::string detail = "HTTP " + std::to_string(response.status);
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_object() && json.contains("errors") && json["errors"].is_array() && !json["errors"].empty() &&
      json["errors"][0].is_object()) {
    const auto& first = json["errors"][0];
    std::string spec_code = first.contains("code") && first["code"].is_string() ? first["code"].get<std::string>() : "";
    if (first.contains("message") && first["message"].is_string()) {
      detail += " " + spec_code + ": " + first["message"].get<std::string>().substr(0, 200);
    } else {
      detail += " " + spec_code;
    }
    code = errc_for_code(spec_code, code);
  }
  return fail(code, what + ": " + detail);
}

std::string media_type_of(const HttpResponse& response, std::string_view content) {
  std::string type = response.header("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.pop_back();
  }
  if (type.empty() || type == "application/json" || type == "text/plain") {
    auto json = nlohmann::json::parse(content, nullptr, false);
    if (json.is_object() && json.contains("mediaType") && json["mediaType"].is_string()) {
      return json["mediaType"].get<std::string>();
    }
  }
  return type;
}

// "bytes START-END/TOTAL" starting at `offset`.
bool content_range_starts_at(const std::string& value, uint64_t offset) {
  std::string prefix = "bytes " + std::to_string(offset) + "-";
  return value.starts_with(prefix);
}

// The last byte an upload session holds from its Range header "0-N"; nullopt when unparseable.
std::optional<uint64_t> upload_end(const std::string& range) {
  size_t dash = range.find('-');
  if (dash == std::string::npos) {
    return std::nullopt;
  }
  char* end = nullptr;
  uint64_t last = std::strtoull(range.c_str() + dash + 1, &end, 10);
  return end == range.c_str() + dash + 1 ? std::nullopt : std::optional<uint64_t>(last + 1);
}

// The next page of a Link header: </v2/...?last=x&n=1000>; rel="next".
std::optional<std::string> next_link(const std::string& link) {
  size_t open = link.find('<');
  size_t close = link.find('>', open);
  if (open == std::string::npos || close == std::string::npos || link.find("next", close) == std::string::npos) {
    return std::nullopt;
  }
  return link.substr(open + 1, close - open - 1);
}

class HttpClient final : public Client {
 public:
  HttpClient(std::string host, const ClientOptions& options, std::optional<Credentials> credentials)
      : m_options(options), m_session(std::move(host), options, std::move(credentials), m_stats) {}

  const std::string& host() const override { return m_session.host(); }
  const ClientStats& stats() const override { return m_stats; }

  Result<Manifest> get_manifest(std::string_view repo, std::string_view reference) override {
    HttpRequest request("GET", path(repo, "/manifests/", reference), std::vector<std::string>{pull_scope(repo)});
    request.headers.emplace("Accept", k_manifest_accept);
    auto response = m_session.send(request);
    if (!response) {
      return std::unexpected(response.error());
    }
    std::string what = name(repo, reference);
    if (response->status != 200) {
      return answer_error(what, *response, Errc::manifest_unknown);
    }
    if (response->body.size() > k_max_manifest) {
      return fail(Errc::too_large, what + ": manifest larger than 4 MiB");
    }
    auto expected = Digest::parse(reference);
    auto algorithm = expected ? expected->algorithm() : DigestAlgorithm::sha256;
    Manifest manifest{digest_of(response->body, algorithm), media_type_of(*response, response->body),
                      std::move(response->body)};
    if (expected && *expected != manifest.digest) {
      return fail(Errc::digest_invalid, what + ": the content has digest " + manifest.digest.str());
    }
    return manifest;
  }

  Result<std::optional<Digest>> head_manifest(std::string_view repo, std::string_view reference) override {
    HttpRequest request("HEAD", path(repo, "/manifests/", reference), std::vector<std::string>{pull_scope(repo)});
    request.headers.emplace("Accept", k_manifest_accept);
    auto response = m_session.send(request);
    if (!response) {
      return std::unexpected(response.error());
    }
    if (response->status == 404) {
      return std::optional<Digest>();
    }
    if (response->status != 200) {
      return answer_error(name(repo, reference), *response, Errc::manifest_unknown);
    }
    if (auto digest = Digest::parse(response->header("Docker-Content-Digest")); digest) {
      return std::optional<Digest>(*digest);
    }
    auto manifest = get_manifest(repo, reference);  // no digest header: hash the content
    if (!manifest) {
      return std::unexpected(manifest.error());
    }
    return std::optional<Digest>(manifest->digest);
  }

  Status put_manifest(std::string_view repo, std::string_view reference, std::string_view media_type,
                      std::string_view content) override {
    HttpRequest request("PUT", path(repo, "/manifests/", reference), std::vector<std::string>{push_scope(repo)});
    request.body = std::string(content);
    request.content_type = std::string(media_type);
    auto response = m_session.send(request);
    if (!response) {
      return std::unexpected(response.error());
    }
    if (response->status != 201 && response->status != 200) {
      return answer_error(name(repo, reference), *response, Errc::name_unknown);
    }
    return {};
  }

  Result<std::optional<uint64_t>> stat_blob(std::string_view repo, const Digest& digest) override {
    HttpRequest request("HEAD", path(repo, "/blobs/", digest.str()), std::vector<std::string>{pull_scope(repo)});
    auto response = m_session.send(request);
    if (!response) {
      return std::unexpected(response.error());
    }
    if (response->status == 404) {
      return std::optional<uint64_t>();
    }
    if (response->status != 200) {
      return answer_error(name(repo, digest.str()), *response, Errc::blob_unknown);
    }
    return std::optional<uint64_t>(std::strtoull(response->header("Content-Length").c_str(), nullptr, 10));
  }

  Status get_blob(std::string_view repo, const Digest& digest, uint64_t size, const BlobSink& sink) override;
  Status put_blob(std::string_view repo, const Digest& digest, uint64_t size, const BlobSource& source) override;

  Result<bool> mount_blob(std::string_view repo, const Digest& digest, std::string_view from) override {
    HttpRequest request(
        "POST", "/v2/" + std::string(repo) + "/blobs/uploads/?mount=" + digest.str() + "&from=" + std::string(from),
        std::vector<std::string>{push_scope(repo), pull_scope(from)});
    auto response = m_session.send(request);
    if (!response) {
      return std::unexpected(response.error());
    }
    if (response->status == 201) {
      return true;
    }
    if (response->status == 202) {
      cancel_upload(repo, response->header("Location"));
    }
    return false;
  }

  Result<std::vector<std::string>> list_tags(std::string_view repo) override {
    std::vector<std::string> tags;
    std::string next = "/v2/" + std::string(repo) + "/tags/list?n=1000";
    for (int page = 0; page < k_max_tag_pages && !next.empty(); ++page) {
      HttpRequest request("GET", next, std::vector<std::string>{pull_scope(repo)});
      auto response = m_session.send(request);
      if (!response) {
        return std::unexpected(response.error());
      }
      if (response->status != 200) {
        return answer_error(std::string(repo) + " tags", *response, Errc::name_unknown);
      }
      auto json = nlohmann::json::parse(response->body, nullptr, false);
      if (!json.is_object()) {
        return fail(Errc::invalid_argument, host() + "/" + std::string(repo) + ": tag list is no JSON object");
      }
      if (json.contains("tags") && json["tags"].is_array()) {
        for (const auto& tag : json["tags"]) {
          if (tag.is_string()) {
            tags.push_back(tag.get<std::string>());
          }
        }
      }
      auto link = next_link(response->header("Link"));
      next = link ? *link : std::string();
    }
    return tags;
  }

  Result<std::vector<Descriptor>> list_referrers(std::string_view repo, const Digest& subject) override {
    HttpRequest request("GET", path(repo, "/referrers/", subject.str()), std::vector<std::string>{pull_scope(repo)});
    auto response = m_session.send(request);
    if (!response) {
      return std::unexpected(response.error());
    }
    if (response->status == 404) {
      return std::vector<Descriptor>();
    }
    if (response->status != 200) {
      return answer_error(name(repo, subject.str()) + " referrers", *response, Errc::manifest_unknown);
    }
    auto parsed = parse_manifest(media_type::oci_index, response->body);
    if (!parsed) {
      return fail(Errc::invalid_argument, name(repo, subject.str()) + " referrers: " + parsed.error().message);
    }
    return parsed->manifests;
  }

 private:
  std::string path(std::string_view repo, std::string_view kind, std::string_view reference) const {
    return "/v2/" + std::string(repo) + std::string(kind) + std::string(reference);
  }
  std::string name(std::string_view repo, std::string_view reference) const {
    bool digest = reference.find(':') != std::string_view::npos;
    return host() + "/" + std::string(repo) + (digest ? "@" : ":") + std::string(reference);
  }
  // An upload Location as a path on this host (absolute URLs are cut to their path).
  static std::string location_path(const std::string& location) {
    size_t scheme = location.find("://");
    if (scheme == std::string::npos) {
      return location;
    }
    size_t slash = location.find('/', scheme + 3);
    return slash == std::string::npos ? "/" : location.substr(slash);
  }
  static std::string with_query(const std::string& location, const std::string& query) {
    return location + (location.find('?') == std::string::npos ? "?" : "&") + query;
  }
  void cancel_upload(std::string_view repo, const std::string& location) {
    if (location.empty()) {
      return;
    }
    HttpRequest request("DELETE", location_path(location), std::vector<std::string>{push_scope(repo)});
    (void)m_session.send(request);  // best effort: the registry expires abandoned sessions anyway
  }
  Result<std::string> start_upload(std::string_view repo);
  Status upload_monolithic(std::string_view repo, const std::string& location, const Digest& digest, uint64_t size,
                           const BlobSource& source);
  Status upload_chunked(std::string_view repo, std::string location, const Digest& digest, uint64_t size,
                        const BlobSource& source);
  Result<uint64_t> upload_offset(std::string_view repo, const std::string& location);

  ClientOptions m_options;
  ClientStats m_stats;
  HttpSession m_session;
};

Status HttpClient::get_blob(std::string_view repo, const Digest& digest, uint64_t size, const BlobSink& sink) {
  Hasher hasher(digest.algorithm());
  uint64_t received = 0;
  std::string what = name(repo, digest.str());
  for (int resumes = 0;;) {
    std::optional<Error> stop;
    HttpRequest request("GET", path(repo, "/blobs/", digest.str()), std::vector<std::string>{pull_scope(repo)});
    if (received > 0) {
      request.headers.emplace("Range", "bytes=" + std::to_string(received) + "-");
    }
    request.on_response = [&](const httplib::Response& r) {
      if (received > 0 &&
          (r.status != 206 || !content_range_starts_at(r.get_header_value("Content-Range"), received))) {
        stop = Error{Errc::io_error, what + ": the registry did not resume at byte " + std::to_string(received) +
                                         " (HTTP " + std::to_string(r.status) + ")"};
        return false;
      }
      return true;
    };
    request.on_data = [&](const char* data, size_t n) {
      if (received + n > size) {
        stop = Error{Errc::digest_invalid, what + ": more than the " + std::to_string(size) + " bytes expected"};
        return false;
      }
      std::span<const char> chunk(data, n);
      hasher.update(chunk);
      if (auto ok = sink(chunk); !ok) {
        stop = ok.error();
        return false;
      }
      received += n;
      m_stats.bytes_down += n;
      return true;
    };
    auto response = m_session.send(request);
    if (stop) {
      return std::unexpected(*stop);
    }
    bool broken = !response && response.error().message.starts_with(k_stream_broken);
    bool short_body = response && (response->status == 200 || response->status == 206) && received < size;
    if ((broken || short_body) && resumes < m_options.max_resumes) {
      ++resumes;
      ++m_stats.resumes;
      continue;
    }
    if (!response) {
      return fail(response.error().code, what + ": " + response.error().message + " after " + std::to_string(received) +
                                             " of " + std::to_string(size) + " bytes");
    }
    if (response->status != 200 && response->status != 206) {
      return answer_error(what, *response, Errc::blob_unknown);
    }
    break;
  }
  if (received != size || hasher.digest() != digest) {
    return fail(Errc::digest_invalid, what + ": the content received does not match the digest and size");
  }
  return {};
}

Result<std::string> HttpClient::start_upload(std::string_view repo) {
  HttpRequest request("POST", "/v2/" + std::string(repo) + "/blobs/uploads/",
                      std::vector<std::string>{push_scope(repo)});
  auto response = m_session.send(request);
  if (!response) {
    return std::unexpected(response.error());
  }
  std::string location = response->header("Location");
  if (response->status != 202 || location.empty()) {
    return answer_error(host() + "/" + std::string(repo) + ": starting an upload", *response, Errc::name_unknown);
  }
  return location_path(location);
}

Status HttpClient::upload_monolithic(std::string_view repo, const std::string& location, const Digest& digest,
                                     uint64_t size, const BlobSource& source) {
  HttpRequest request("PUT", with_query(location, "digest=" + digest.str()),
                      std::vector<std::string>{push_scope(repo)});
  request.content_type = "application/octet-stream";
  request.upload_source = source;
  request.upload_size = size;
  auto response = m_session.send(request);
  if (!response) {
    return std::unexpected(response.error());
  }
  if (response->status != 201) {
    return answer_error(name(repo, digest.str()), *response, Errc::upload_unknown);
  }
  return {};
}

Result<uint64_t> HttpClient::upload_offset(std::string_view repo, const std::string& location) {
  HttpRequest request("GET", location, std::vector<std::string>{push_scope(repo)});
  auto response = m_session.send(request);
  if (!response) {
    return std::unexpected(response.error());
  }
  auto end = upload_end(response->header("Range"));
  if (response->status != 204 || !end) {
    return answer_error(host() + "/" + std::string(repo) + ": upload status", *response, Errc::upload_unknown);
  }
  return *end;
}

Status HttpClient::upload_chunked(std::string_view repo, std::string location, const Digest& digest, uint64_t size,
                                  const BlobSource& source) {
  uint64_t offset = 0;
  for (int resumes = 0; offset < size;) {
    uint64_t n = std::min(m_options.chunk_size, size - offset);
    HttpRequest request("PATCH", location, std::vector<std::string>{push_scope(repo)});
    request.content_type = "application/octet-stream";
    request.upload_source = source;
    request.upload_offset = offset;
    request.upload_size = n;
    request.headers.emplace("Content-Range", std::to_string(offset) + "-" + std::to_string(offset + n - 1));
    auto response = m_session.send(request);
    if (response && response->status == 202 && !response->header("Location").empty()) {
      location = location_path(response->header("Location"));
      offset += n;
      continue;
    }
    if (resumes++ >= m_options.max_resumes || (!response && response.error().code != Errc::io_error)) {
      return response ? answer_error(name(repo, digest.str()) + " chunk", *response, Errc::upload_unknown)
                      : std::unexpected(response.error());
    }
    // The chunk may have arrived in part: continue from what the session holds.
    auto held = upload_offset(repo, location);
    if (!held) {
      return std::unexpected(held.error());
    }
    offset = std::min(*held, size);
  }
  HttpRequest request("PUT", with_query(location, "digest=" + digest.str()),
                      std::vector<std::string>{push_scope(repo)});
  auto response = m_session.send(request);
  if (!response) {
    return std::unexpected(response.error());
  }
  if (response->status != 201) {
    return answer_error(name(repo, digest.str()), *response, Errc::upload_unknown);
  }
  return {};
}

Status HttpClient::put_blob(std::string_view repo, const Digest& digest, uint64_t size, const BlobSource& source) {
  for (int attempt = 1;; ++attempt) {
    auto location = start_upload(repo);
    if (!location) {
      return std::unexpected(location.error());
    }
    auto done = m_options.chunk_size > 0 && size > 0 ? upload_chunked(repo, *location, digest, size, source)
                                                     : upload_monolithic(repo, *location, digest, size, source);
    if (done || done.error().code != Errc::io_error || attempt >= k_max_upload_attempts) {
      if (!done) {
        cancel_upload(repo, *location);
      }
      return done;
    }
    cancel_upload(repo, *location);
  }
}

}  // namespace

Result<std::unique_ptr<Client>> make_client(std::string_view host, const ClientOptions& options) {
  std::optional<Credentials> credentials;
  if (options.credentials) {
    if (!options.credentials->username.empty()) {
      credentials = options.credentials;
    }
  } else {
    auto env = [](const char* name) -> std::optional<std::string> {
      const char* value = std::getenv(name);
      return value == nullptr ? std::nullopt : std::optional<std::string>(value);
    };
    auto found = find_credentials(host, options.auth_file, env);
    if (!found) {
      return std::unexpected(found.error());
    }
    credentials = *found;
  }
  if (!options.ca_file.empty()) {
    if (FILE* file = std::fopen(options.ca_file.c_str(), "r"); file != nullptr) {
      std::fclose(file);
    } else {
      return fail(Errc::invalid_argument, "CA file " + options.ca_file + " cannot be read");
    }
  }
  return std::unique_ptr<Client>(std::make_unique<HttpClient>(std::string(host), options, std::move(credentials)));
}

}  // namespace regd::remote
