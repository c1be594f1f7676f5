#include "remote_http.h"

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "regd/base64.h"

namespace regd::remote {

namespace {

// The most of a non-streamed body kept: one byte over the largest manifest, so that callers can
// tell "too large".
constexpr size_t k_max_kept_body = 4 * 1024 * 1024 + 1;
constexpr int k_max_redirects = 5;
constexpr size_t k_upload_buffer = 1 << 20;

struct Url {
  std::string scheme_host_port;  // "https://host:port"
  std::string authority;         // "host:port"
  std::string path;              // "/path?query", at least "/"
};

std::optional<Url> parse_url(std::string_view text) {
  size_t colon = text.find("://");
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view scheme = text.substr(0, colon);
  if (scheme != "http" && scheme != "https") {
    return std::nullopt;
  }
  std::string_view rest = text.substr(colon + 3);
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (authority.empty()) {
    return std::nullopt;
  }
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (path.front() == '?') {
    path.insert(0, "/");
  }
  return Url{std::string(scheme) + "://" + std::string(authority), std::string(authority), path};
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : std::string(sep)) + item;
  }
  return out;
}

bool is_success(int status) {
  return status >= 200 && status < 300;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpSession::HttpSession(std::string host, ClientOptions options, std::optional<Credentials> credentials,
                         ClientStats& stats)
    : m_host(std::move(host)), m_options(std::move(options)), m_credentials(std::move(credentials)), m_stats(stats) {
  if (m_options.plain_http) {
    m_scheme = "http";
    m_scheme_settled = true;
  }
}

HttpSession::~HttpSession() = default;

std::unique_ptr<httplib::Client> HttpSession::make_http_client(const std::string& scheme_host_port) const {
  auto client = std::make_unique<httplib::Client>(scheme_host_port);
  auto seconds = static_cast<time_t>(m_options.timeout.count());
  client->set_connection_timeout(seconds);
  client->set_read_timeout(seconds);
  client->set_write_timeout(seconds);
  client->set_follow_location(false);
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);  // header and body are separate writes (see s3/client.cc)
  client->enable_server_certificate_verification(m_options.tls_verify);
  if (!m_options.ca_file.empty()) {
    client->set_ca_cert_path(m_options.ca_file);
  }
  return client;
}

httplib::Client& HttpSession::client() {
  if (!m_client) {
    m_client = make_http_client(m_scheme + "://" + m_host);
  }
  return *m_client;
}

httplib::Result HttpSession::dispatch(httplib::Client& client, HttpRequest& request, HttpResponse& response,
                                      bool& streamed, std::optional<Error>& source_error) {
  if (request.method == "GET") {
    auto on_response = [&](const httplib::Response& r) {
      response.status = r.status;
      response.headers = r.headers;
      return !is_success(r.status) || !request.on_response || request.on_response(r);
    };
    auto on_body = [&](const char* data, size_t n) {
      if (is_success(response.status) && request.on_data) {
        streamed = true;
        return request.on_data(data, n);
      }
      if (response.body.size() < k_max_kept_body) {
        response.body.append(data, std::min(n, k_max_kept_body - response.body.size()));
      }
      return true;
    };
    return client.Get(request.path, request.headers, on_response, on_body);
  }
  if (request.method == "HEAD") {
    return client.Head(request.path, request.headers);
  }
  if (request.method == "DELETE") {
    return client.Delete(request.path, request.headers);
  }
  if (request.upload_source) {
    std::vector<char> buf(std::min<uint64_t>(k_upload_buffer, std::max<uint64_t>(request.upload_size, 1)));
    auto provider = [&](size_t offset, size_t length, httplib::DataSink& sink) {
      auto n = request.upload_source(request.upload_offset + offset,
                                     std::span<char>(buf.data(), std::min(length, buf.size())));
      if (!n || *n == 0) {
        source_error = n ? Error{Errc::io_error, "blob source ended early"} : n.error();
        return false;
      }
      m_stats.bytes_up += *n;
      return sink.write(buf.data(), *n);
    };
    auto size = static_cast<size_t>(request.upload_size);
    if (request.method == "PUT") {
      return client.Put(request.path, request.headers, size, provider, request.content_type);
    }
    if (request.method == "PATCH") {
      return client.Patch(request.path, request.headers, size, provider, request.content_type);
    }
    return client.Post(request.path, request.headers, size, provider, request.content_type);
  }
  if (request.method == "PUT") {
    return client.Put(request.path, request.headers, request.body, request.content_type);
  }
  if (request.method == "PATCH") {
    return client.Patch(request.path, request.headers, request.body, request.content_type);
  }
  return client.Post(request.path, request.headers, request.body, request.content_type);
}

Result<HttpResponse> HttpSession::attempt(httplib::Client& client, HttpRequest& request) {
  ++m_stats.requests;
  HttpResponse response;
  bool streamed = false;
  std::optional<Error> source_error;
  auto result = dispatch(client, request, response, streamed, source_error);
  if (source_error) {
    return std::unexpected(*source_error);
  }
  if (!result) {
    std::string what = httplib::to_string(result.error());
    if (streamed) {
      return fail(Errc::io_error, std::string(k_stream_broken) + ": " + m_host + ": " + what);
    }
    if (result.error() == httplib::Error::Canceled) {
      return fail(Errc::io_error, m_host + ": transfer stopped");
    }
    if (result.error() == httplib::Error::SSLConnection && !m_options.tls_verify && !m_scheme_settled &&
        m_scheme == "https") {
      return fail(Errc::unsupported, "no TLS");  // send() falls back to plain HTTP
    }
    if (result.error() == httplib::Error::SSLServerVerification || result.error() == httplib::Error::SSLLoadingCerts) {
      // Trying again cannot help: the certificate (or the CA file) is what it is.
      return fail(Errc::denied, m_host + ": " + what + (m_options.ca_file.empty() ? " (see --ca)" : ""));
    }
    return fail(Errc::io_error, m_host + ": " + what);
  }
  if (request.method != "GET") {
    response.status = result->status;
    response.headers = result->headers;
    response.body = result->body.substr(0, k_max_kept_body);
  }
  return response;
}

Result<HttpResponse> HttpSession::send(HttpRequest& request) {
  bool challenged = false;
  for (int attempt_no = 1;;) {
    if (auto ok = authorize(request); !ok) {
      return std::unexpected(ok.error());
    }
    auto response = attempt(client(), request);
    if (!response) {
      const Error& error = response.error();
      if (error.code == Errc::unsupported && error.message == "no TLS") {
        m_scheme = "http";  // --tls-verify=false: the server speaks plain HTTP, as skopeo allows
        m_scheme_settled = true;
        m_client.reset();
        continue;
      }
      bool retryable = error.code == Errc::io_error && !error.message.starts_with(k_stream_broken) &&
                       !error.message.ends_with("transfer stopped");
      if (!retryable || attempt_no > m_options.max_retries) {
        return response;
      }
      wait(attempt_no++, nullptr);
      continue;
    }
    m_scheme_settled = true;
    if (response->status == 401 && !challenged) {
      challenged = true;
      auto learned = on_challenge(*response, request);
      if (!learned) {
        return std::unexpected(learned.error());
      }
      if (*learned) {
        continue;
      }
      return response;
    }
    if ((response->status == 429 || response->status >= 500) && attempt_no <= m_options.max_retries) {
      wait(attempt_no++, &*response);
      continue;
    }
    if (response->status >= 300 && response->status < 400 && (request.method == "GET" || request.method == "HEAD")) {
      return follow_redirects(request, std::move(*response));
    }
    return response;
  }
}

Result<HttpResponse> HttpSession::follow_redirects(HttpRequest& request, HttpResponse response) {
  for (int hop = 0; hop < k_max_redirects; ++hop) {
    std::string location = response.header("Location");
    if (location.empty() || response.status < 300 || response.status >= 400) {
      return response;
    }
    HttpRequest next = request;
    next.headers.erase("Authorization");
    std::unique_ptr<httplib::Client> other;
    if (location.starts_with("/")) {
      next.path = location;
      other = make_http_client(m_scheme + "://" + m_host);
    } else {
      auto url = parse_url(location);
      if (!url) {
        return fail(Errc::invalid_argument, m_host + ": redirect to an unusable location");
      }
      next.path = url->path;
      other = make_http_client(url->scheme_host_port);
    }
    // Credentials stay with the registry: a redirect target (a CDN, object storage) gets none.
    auto followed = attempt(*other, next);
    if (!followed) {
      return followed;
    }
    response = std::move(*followed);
  }
  return fail(Errc::io_error, m_host + ": too many redirects");
}

Status HttpSession::authorize(HttpRequest& request) {
  request.headers.erase("Authorization");
  if (m_auth == AuthMode::basic && m_credentials) {
    request.headers.emplace("Authorization",
                            "Basic " + base64_encode(m_credentials->username + ":" + m_credentials->password));
  } else if (m_auth == AuthMode::bearer) {
    auto token = fetch_token(request.scopes);
    if (!token) {
      return std::unexpected(token.error());
    }
    request.headers.emplace("Authorization", "Bearer " + *token);
  }
  return {};
}

Result<bool> HttpSession::on_challenge(const HttpResponse& response, HttpRequest& request) {
  std::vector<Challenge> challenges;
  auto [begin, end] = response.headers.equal_range("WWW-Authenticate");
  for (auto it = begin; it != end; ++it) {
    auto parsed = parse_challenges(it->second);
    challenges.insert(challenges.end(), parsed.begin(), parsed.end());
  }
  for (const auto& challenge : challenges) {
    if (challenge.scheme == "bearer" && challenge.params.contains("realm")) {
      m_auth = AuthMode::bearer;
      m_bearer = challenge;
      auto scope = challenge.params.find("scope");
      if (scope != challenge.params.end() && std::ranges::find(request.scopes, scope->second) == request.scopes.end()) {
        request.scopes.push_back(scope->second);
      }
      m_tokens.erase(join(request.scopes, " "));  // a cached token was not enough: ask again
      return true;
    }
  }
  for (const auto& challenge : challenges) {
    if (challenge.scheme == "basic" && m_credentials && m_auth != AuthMode::basic) {
      m_auth = AuthMode::basic;
      return true;
    }
  }
  return false;
}

Result<std::string> HttpSession::fetch_token(const std::vector<std::string>& scopes) {
  std::string key = join(scopes, " ");
  auto cached = m_tokens.find(key);
  if (cached != m_tokens.end() && cached->second.expires > std::chrono::steady_clock::now()) {
    return cached->second.value;
  }
  auto realm = parse_url(m_bearer.params["realm"]);
  if (!realm) {
    return fail(Errc::invalid_argument, m_host + ": the Bearer challenge's realm is no http(s) URL");
  }
  std::string path = realm->path + (realm->path.find('?') == std::string::npos ? "?" : "&");
  path += "service=" + httplib::detail::encode_query_param(m_bearer.params["service"]);
  for (const auto& scope : scopes) {
    path += "&scope=" + httplib::detail::encode_query_param(scope);
  }
  HttpRequest request("GET", path);
  if (m_credentials) {
    request.headers.emplace("Authorization",
                            "Basic " + base64_encode(m_credentials->username + ":" + m_credentials->password));
  }
  auto token_client = make_http_client(realm->scheme_host_port);
  ++m_stats.token_fetches;
  Result<HttpResponse> response = fail(Errc::io_error, "");
  for (int attempt_no = 1;; ++attempt_no) {
    response = attempt(*token_client, request);
    bool again = !response || response->status == 429 || response->status >= 500;
    if (!again || attempt_no > m_options.max_retries) {
      break;
    }
    wait(attempt_no, response ? &*response : nullptr);
  }
  if (!response) {
    return fail(response.error().code, "token endpoint of " + m_host + ": " + response.error().message);
  }
  if (response->status == 401 || response->status == 403) {
    return fail(Errc::denied,
                "token endpoint of " + m_host + " refused " +
                    (m_credentials ? "the credentials of " + m_credentials->username : "anonymous access") + " (HTTP " +
                    std::to_string(response->status) + ")");
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  std::string token;
  if (response->status == 200 && json.is_object()) {
    for (const char* name : {"token", "access_token"}) {
      if (json.contains(name) && json[name].is_string() && !json[name].get<std::string>().empty()) {
        token = json[name].get<std::string>();
        break;
      }
    }
  }
  if (token.empty()) {
    return fail(Errc::io_error,
                "token endpoint of " + m_host + " gave no token (HTTP " + std::to_string(response->status) + ")");
  }
  int64_t expires_in = 60;
  if (json.contains("expires_in") && json["expires_in"].is_number_integer()) {
    expires_in = json["expires_in"].get<int64_t>();
  }
  auto lifetime = std::chrono::seconds(std::max<int64_t>(expires_in - 5, 1));
  m_tokens[key] = Token{token, std::chrono::steady_clock::now() + lifetime};
  return token;
}

void HttpSession::wait(int attempt, const HttpResponse* response) {
  std::optional<std::chrono::milliseconds> retry_after;
  if (response != nullptr) {
    retry_after = parse_retry_after(response->header("Retry-After"), std::chrono::system_clock::now());
  }
  auto delay = retry_delay(attempt, retry_after, m_options.retry_delay, m_options.max_retry_delay);
  ++m_stats.retries;
  if (m_options.sleep) {
    m_options.sleep(delay);
  } else {
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace regd::remote
