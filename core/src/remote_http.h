// One registry host over HTTP(S): the connection (TLS options, the plain-HTTP fallback of
// --tls-verify=false), authentication (Basic, Bearer tokens cached per scope) and retries with
// back-off (429, 5xx, failed connections; Retry-After honoured). Private to regd_remote.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

#include "regd/remote.h"
#include "remote_auth.h"

namespace regd::remote {

struct HttpRequest {
  HttpRequest(std::string method_, std::string path_, std::vector<std::string> scopes_ = {})
      : method(std::move(method_)), path(std::move(path_)), scopes(std::move(scopes_)) {}

  std::string method{};  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string path{};    // path and query
  httplib::Headers headers{};
  std::vector<std::string> scopes{};  // token scopes the request needs ("repository:a/b:pull")
  std::string body{};
  std::string content_type{};
  // When set, the body is `upload_size` bytes read from upload_source at upload_offset onwards.
  BlobSource upload_source{};
  uint64_t upload_offset = 0;
  uint64_t upload_size = 0;
  // When set, a 2xx body is handed to on_data (false stops the transfer) instead of being kept.
  std::function<bool(const httplib::Response&)> on_response{};
  std::function<bool(const char*, size_t)> on_data{};
};

struct HttpResponse {
  int status = 0;
  httplib::Headers headers;
  std::string body;  // the body when not streamed (at most 4 MiB + 1 byte is kept)
  std::string header(const std::string& name) const;
};

// A transport failure after on_data received bytes: the caller may resume with Range.
inline constexpr std::string_view k_stream_broken = "stream broken";

class HttpSession {
 public:
  HttpSession(std::string host, ClientOptions options, std::optional<Credentials> credentials, ClientStats& stats);
  ~HttpSession();

  // Sends `request`, authenticating when challenged and retrying 429, 5xx and failed
  // connections (never once on_data has received bytes: that returns io_error with a message
  // starting k_stream_broken). Follows redirects of GET and HEAD (without credentials to another
  // host). Errors: io_error (naming the host), denied (the token endpoint refused).
  [[nodiscard]] Result<HttpResponse> send(HttpRequest& request);
  const std::string& host() const { return m_host; }

 private:
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  enum class AuthMode { none, basic, bearer };

  httplib::Client& client();
  std::unique_ptr<httplib::Client> make_http_client(const std::string& scheme_host_port) const;
  httplib::Result dispatch(httplib::Client& client, HttpRequest& request, HttpResponse& response, bool& streamed,
                           std::optional<Error>& source_error);
  Result<HttpResponse> attempt(httplib::Client& client, HttpRequest& request);
  Result<HttpResponse> follow_redirects(HttpRequest& request, HttpResponse response);
  // Sets the Authorization header for the request's scopes (fetching a token when needed).
  Status authorize(HttpRequest& request);
  // Learns from a 401's challenge; false when there is nothing new to try.
  Result<bool> on_challenge(const HttpResponse& response, HttpRequest& request);
  Result<std::string> fetch_token(const std::vector<std::string>& scopes);
  void wait(int attempt, const HttpResponse* response);

  std::string m_host;
  ClientOptions m_options;
  std::optional<Credentials> m_credentials;
  ClientStats& m_stats;
  std::string m_scheme = "https";
  bool m_scheme_settled = false;
  std::unique_ptr<httplib::Client> m_client;
  AuthMode m_auth = AuthMode::none;
  Challenge m_bearer;
  std::map<std::string, Token> m_tokens;  // by space-joined scopes
};

}  // namespace regd::remote
