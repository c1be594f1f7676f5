#include "s3/client.h"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <httplib.h>
#include <pugixml.hpp>

#include "regd/storage.h"

namespace regd::s3 {

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

constexpr size_t k_max_error_body = 64 * 1024;
// User metadata: the mtime a renamed object keeps (seconds since the epoch).
constexpr std::string_view k_mtime_header = "x-amz-meta-regd-mtime";

std::string query_string(const Params& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    out += (out.empty() ? "" : "&") + uri_encode(name, false) + "=" + uri_encode(value, false);
  }
  return out;
}

// "Thu, 03 Dec 2026 17:00:00 GMT" (headers) or "2026-12-03T17:00:00.000Z" (listings).
std::chrono::system_clock::time_point parse_time(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) {
    end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  }
  if (end == nullptr) {
    return {};
  }
  return clock_from_seconds(::timegm(&tm)).value_or(std::chrono::system_clock::time_point{});
}

Errc code_of(int status, std::string_view service_code) {
  if (service_code == "NoSuchBucket") {
    return Errc::io_error;  // the whole store is gone, not one object: a server error
  }
  switch (status) {
    case 404:
      return Errc::not_found;
    case 412:
      return Errc::exists;
    case 403:
      return Errc::denied;
    case 416:
      return Errc::range_invalid;
    case 507:
      return Errc::no_space;
    default:
      break;
  }
  if (service_code == "QuotaExceeded" || service_code == "EntityTooLarge") {
    return Errc::no_space;
  }
  if (service_code == "InvalidPart" || service_code == "InvalidPartOrder" || service_code == "EntityTooSmall") {
    return Errc::invalid_argument;
  }
  return Errc::io_error;
}

}  // namespace

struct Client::Reply {
  int status = 0;  // 0: no answer (connection failed)
  std::string body;
  httplib::Headers headers;
  std::string transport_error;

  bool ok() const { return status >= 200 && status < 300 && service_error().empty(); }
  // The <Error><Code> of a body; some operations answer 200 with an error in it.
  std::string service_error() const {
    if (body.find("<Error>") == std::string::npos) {
      return "";
    }
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size())) {
      return "";
    }
    return doc.child("Error").child_value("Code");
  }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  Error error(const std::string& what) const {
    if (status == 0) {
      return Error{Errc::io_error, what + ": no answer from the object store: " + transport_error};
    }
    std::string code = service_error();
    pugi::xml_document doc;
    std::string message;
    if (!code.empty() && doc.load_buffer(body.data(), body.size())) {
      message = doc.child("Error").child_value("Message");
    }
    return Error{code_of(status, code), what + ": HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code) +
                                            (message.empty() ? "" : ": " + message)};
  }
};

Client::Client(Endpoint endpoint) : m_endpoint(std::move(endpoint)) {
  auto scheme = m_endpoint.url.find("://");
  m_host = scheme == std::string::npos ? m_endpoint.url : m_endpoint.url.substr(scheme + 3);
  m_http = std::make_unique<httplib::Client>(m_endpoint.url);
  m_http->set_url_encode(false);  // targets are sent exactly as they were signed
  m_http->set_keep_alive(true);
  // A PUT goes out as a header write and a body write: with Nagle the body waits for the
  // server's delayed ACK, 40 ms per request (measured on radosgw).
  m_http->set_tcp_nodelay(true);
  m_http->set_connection_timeout(std::chrono::seconds(10));
  m_http->set_read_timeout(std::chrono::seconds(60));
  m_http->set_write_timeout(std::chrono::seconds(60));
}

Client::~Client() = default;

std::string Client::shown(const std::string& key) const {
  const std::string& prefix = m_endpoint.shown_prefix;
  if (!prefix.empty() && key.size() > prefix.size() && key.starts_with(prefix) && key[prefix.size()] == '/') {
    return key.substr(prefix.size() + 1);
  }
  return key;
}

Client::Reply Client::send(const std::string& method, const std::string& key, Params query, std::string_view body,
                           Params headers, const std::function<bool(std::span<const char>)>* sink) {
  auto now = std::chrono::system_clock::now();
  std::string path = "/" + m_endpoint.bucket + (key.empty() ? "" : "/" + key);
  SignedRequest signed_request{method, path, query, {{"Host", m_host}}, sha256_hex(body)};
  headers.emplace_back("x-amz-date", amz_date(now));
  headers.emplace_back("x-amz-content-sha256", signed_request.payload_hash);
  if (!m_endpoint.credentials.session_token.empty()) {
    headers.emplace_back("x-amz-security-token", m_endpoint.credentials.session_token);
  }
  signed_request.headers.insert(signed_request.headers.end(), headers.begin(), headers.end());

  httplib::Request request;
  request.method = method;
  std::string q = query_string(query);
  request.path = uri_encode(path, true) + (q.empty() ? "" : "?" + q);
  request.set_header("Host", m_host);
  for (const auto& [name, value] : headers) {
    request.set_header(name, value);
  }
  request.set_header("Authorization", authorization(signed_request, m_endpoint.credentials, m_endpoint.scope, now));
  if (!body.empty() || method == "PUT" || method == "POST") {
    request.body = std::string(body);
    request.set_header("Content-Type", "application/octet-stream");
  }
  Reply reply;
  if (sink != nullptr) {
    request.response_handler = [&](const httplib::Response& response) {
      reply.status = response.status;
      return true;
    };
    request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
      if (reply.status >= 200 && reply.status < 300) {
        return (*sink)(std::span<const char>(data, size));
      }
      if (reply.body.size() + size <= k_max_error_body) {
        reply.body.append(data, size);
      }
      return true;
    };
  }
  auto result = m_http->send(request);
  if (!result) {
    reply.status = 0;
    reply.transport_error = httplib::to_string(result.error());
    return reply;
  }
  reply.status = result->status;
  reply.headers = result->headers;
  if (sink == nullptr) {
    reply.body = std::move(result->body);
  }
  return reply;
}

Result<ObjectInfo> Client::head(const std::string& key) {
  auto reply = send("HEAD", key, {}, "", {});
  if (!reply.ok()) {
    return std::unexpected(reply.error("head " + shown(key)));
  }
  ObjectInfo info;
  info.size = std::stoull("0" + reply.header("Content-Length"));
  info.last_modified = parse_time(reply.header("Last-Modified"));
  info.mtime = info.last_modified;
  if (auto kept = reply.header(std::string(k_mtime_header)); !kept.empty()) {
    int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(kept.data(), kept.data() + kept.size(), seconds);
    auto kept_mtime = clock_from_seconds(seconds);
    if (ec == std::errc() && ptr == kept.data() + kept.size() && kept_mtime) {
      info.mtime = *kept_mtime;
    }
  }
  info.etag = reply.header("ETag");
  return info;
}

Result<std::string> Client::get(const std::string& key, size_t max_size) {
  std::string out;
  bool over = false;
  std::function<bool(std::span<const char>)> sink = [&](std::span<const char> data) {
    over = out.size() + data.size() > max_size;
    if (!over) {
      out.append(data.data(), data.size());
    }
    return !over;
  };
  auto reply = send("GET", key, {}, "", {}, &sink);
  if (over) {
    return fail(Errc::too_large, "get " + shown(key) + ": over the limit of " + std::to_string(max_size) + " bytes");
  }
  if (!reply.ok()) {
    return std::unexpected(reply.error("get " + shown(key)));
  }
  return out;
}

Status Client::get_range(const std::string& key, uint64_t offset, uint64_t length,
                         const std::function<bool(std::span<const char>)>& sink) {
  if (length == 0) {
    return {};
  }
  uint64_t received = 0;
  std::function<bool(std::span<const char>)> counted = [&](std::span<const char> data) {
    received += data.size();
    return sink(data);
  };
  auto range = "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
  auto reply = send("GET", key, {}, "", {{"Range", range}}, &counted);
  if (!reply.ok()) {
    return std::unexpected(reply.error("get " + shown(key) + " " + range));
  }
  if (received != length) {
    return fail(Errc::io_error, "get " + shown(key) + " " + range + ": " + std::to_string(received) + " bytes arrived");
  }
  return {};
}

Result<std::string> Client::put(const std::string& key, std::string_view body, bool create_only) {
  Params headers;
  if (create_only) {
    headers.emplace_back("If-None-Match", "*");
  }
  auto reply = send("PUT", key, {}, body, headers);
  if (!reply.ok()) {
    return std::unexpected(reply.error("put " + shown(key)));
  }
  return reply.header("ETag");
}

Status Client::remove(const std::string& key) {
  auto reply = send("DELETE", key, {}, "", {});
  if (!reply.ok() && reply.status != 404) {
    return std::unexpected(reply.error("remove " + shown(key)));
  }
  return {};
}

Status Client::copy(const std::string& from, const std::string& to,
                    std::optional<std::chrono::system_clock::time_point> keep_mtime) {
  Params headers{{"x-amz-copy-source", uri_encode("/" + m_endpoint.bucket + "/" + from, true)}};
  if (keep_mtime) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(keep_mtime->time_since_epoch()).count();
    headers.emplace_back("x-amz-metadata-directive", "REPLACE");
    headers.emplace_back(std::string(k_mtime_header), std::to_string(seconds));
  } else if (from == to) {
    headers.emplace_back("x-amz-metadata-directive", "REPLACE");  // a copy onto itself must change something
  }
  auto reply = send("PUT", to, {}, "", headers);
  if (!reply.ok()) {
    return std::unexpected(reply.error("copy " + shown(from) + " to " + shown(to)));
  }
  return {};
}

Result<Listing> Client::list(const std::string& prefix, std::string_view delimiter, const std::string& token,
                             int max_keys) {
  Params query{{"list-type", "2"}, {"max-keys", std::to_string(max_keys)}, {"prefix", prefix}};
  if (!delimiter.empty()) {
    query.emplace_back("delimiter", std::string(delimiter));
  }
  if (!token.empty()) {
    query.emplace_back("continuation-token", token);
  }
  auto reply = send("GET", "", query, "", {});
  if (!reply.ok()) {
    return std::unexpected(reply.error("list " + shown(prefix)));
  }
  auto server_time = parse_time(reply.header("Date"));
  pugi::xml_document doc;
  if (!doc.load_buffer(reply.body.data(), reply.body.size())) {
    return fail(Errc::io_error, "list " + shown(prefix) + ": the answer is not XML");
  }
  auto result = doc.child("ListBucketResult");
  Listing listing;
  listing.server_time = server_time;
  for (auto common : result.children("CommonPrefixes")) {
    listing.prefixes.emplace_back(common.child_value("Prefix"));
  }
  for (auto contents : result.children("Contents")) {
    ListedObject object;
    object.key = contents.child_value("Key");
    object.info.size = std::stoull("0" + std::string(contents.child_value("Size")));
    object.info.last_modified = parse_time(contents.child_value("LastModified"));
    object.info.etag = contents.child_value("ETag");
    listing.objects.push_back(std::move(object));
  }
  if (std::string_view(result.child_value("IsTruncated")) == "true") {
    listing.next_token = result.child_value("NextContinuationToken");
  }
  return listing;
}

Status Client::head_bucket() {
  auto reply = send("HEAD", "", {}, "", {});
  if (!reply.ok()) {
    return std::unexpected(reply.error("bucket " + m_endpoint.bucket));
  }
  return {};
}

Status Client::create_bucket() {
  auto reply = send("PUT", "", {}, "", {});
  if (!reply.ok() && reply.service_error() != "BucketAlreadyOwnedByYou") {
    return std::unexpected(reply.error("create bucket " + m_endpoint.bucket));
  }
  return {};
}

std::string Client::presign_get(const std::string& key, std::chrono::seconds expires) const {
  std::string path = "/" + m_endpoint.bucket + "/" + key;
  SignedRequest request{"GET", path, {}, {{"Host", m_host}}, "UNSIGNED-PAYLOAD"};
  auto query =
      presigned_query(request, m_endpoint.credentials, m_endpoint.scope, std::chrono::system_clock::now(), expires);
  return m_endpoint.url + uri_encode(path, true) + "?" + query;
}

Result<std::string> Client::create_multipart(const std::string& key) {
  auto reply = send("POST", key, {{"uploads", ""}}, "", {});
  if (!reply.ok()) {
    return std::unexpected(reply.error("create multipart upload of " + shown(key)));
  }
  pugi::xml_document doc;
  doc.load_buffer(reply.body.data(), reply.body.size());
  std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty()) {
    return fail(Errc::io_error, "create multipart upload of " + shown(key) + ": no UploadId in the answer");
  }
  return id;
}

Result<std::string> Client::upload_part(const std::string& key, const std::string& upload_id, int number,
                                        std::span<const char> data) {
  auto reply = send("PUT", key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                    std::string_view(data.data(), data.size()), {});
  if (!reply.ok()) {
    return std::unexpected(reply.error("upload part " + std::to_string(number) + " of " + shown(key)));
  }
  return reply.header("ETag");
}

Result<std::string> Client::upload_part_copy(const std::string& key, const std::string& upload_id, int number,
                                             const std::string& from, uint64_t offset, uint64_t length) {
  Params headers{
      {"x-amz-copy-source", uri_encode("/" + m_endpoint.bucket + "/" + from, true)},
      {"x-amz-copy-source-range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1)}};
  auto reply = send("PUT", key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}}, "", headers);
  if (!reply.ok()) {
    return std::unexpected(
        reply.error("copy part " + std::to_string(number) + " of " + shown(key) + " from " + shown(from)));
  }
  pugi::xml_document doc;
  doc.load_buffer(reply.body.data(), reply.body.size());
  std::string etag = doc.child("CopyPartResult").child_value("ETag");
  if (etag.empty()) {
    return fail(Errc::io_error,
                "copy part " + std::to_string(number) + " of " + shown(key) + ": no ETag in the answer");
  }
  return etag;
}

Status Client::complete_multipart(const std::string& key, const std::string& upload_id,
                                  const std::vector<Part>& parts) {
  std::string body = "<CompleteMultipartUpload>";
  for (const Part& part : parts) {
    body += "<Part><PartNumber>" + std::to_string(part.number) + "</PartNumber><ETag>" + part.etag + "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  auto reply = send("POST", key, {{"uploadId", upload_id}}, body, {});
  if (!reply.ok()) {
    return std::unexpected(reply.error("complete multipart upload of " + shown(key)));
  }
  return {};
}

Status Client::abort_multipart(const std::string& key, const std::string& upload_id) {
  auto reply = send("DELETE", key, {{"uploadId", upload_id}}, "", {});
  if (!reply.ok() && reply.status != 404) {
    return std::unexpected(reply.error("abort multipart upload of " + shown(key)));
  }
  return {};
}

}  // namespace regd::s3
