#include "http_convert.h"

#include <algorithm>
#include <cctype>
#include <random>

namespace regd::daemon {

namespace http = boost::beast::http;

namespace {

Method to_method(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return Method::get;
    case http::verb::head:
      return Method::head;
    case http::verb::post:
      return Method::post;
    case http::verb::put:
      return Method::put;
    case http::verb::patch:
      return Method::patch;
    case http::verb::delete_:
      return Method::del;
    default:
      return Method::other;
  }
}

}  // namespace

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

namespace {

// RFC 9110 token characters: printable, and nothing a log reader or a shell must quote.
bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A client's (or a proxy's) X-Request-Id is kept when it is 1 to k_max_request_id token
// characters (it ends up in logs and responses); anything else is replaced by a new id.
std::string request_id(std::string_view given) {
  if (given.empty() || given.size() > k_max_request_id || !std::all_of(given.begin(), given.end(), is_token_char)) {
    return new_request_id();
  }
  return std::string(given);
}

}  // namespace

Request to_request(const http::request_parser<http::empty_body>& parser) {
  const auto& msg = parser.get();
  Request r;
  r.method = to_method(msg.method());
  r.method_name = std::string(msg.method_string());
  r.target = std::string(msg.target());
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
  for (const auto& field : msg) {
    r.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  if (auto length = parser.content_length()) {
    r.content_length = *length;
  }
  r.chunked = parser.chunked();
  r.request_id = request_id(r.header("X-Request-Id"));
  return r;
}

namespace {

bool bodiless(const Response& response) {
  return response.status == 204 || response.status == 304;
}

// Headers the session writes itself.
bool session_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Connection") ||
         iequals(name, "Docker-Distribution-API-Version") || iequals(name, "X-Request-Id");
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

bool sends_file(const Response& response, const Request& request) {
  return (response.file || response.stream) && request.method != Method::head && !bodiless(response);
}

bool sends_body(const Response& response, const Request& request) {
  return request.method != Method::head && !bodiless(response) && !sends_file(response, request);
}

std::string response_head(const Response& response, const Request& request, unsigned version, bool keep_alive) {
  std::string out;
  out.reserve(256);
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(response.status));
  out.push_back(' ');
  auto reason = http::obsolete_reason(http::int_to_status(response.status));
  out.append(reason.data(), reason.size());
  out.append("\r\n");
  for (const auto& h : response.headers) {
    if (!session_header(h.name)) {
      append_field(out, h.name, h.value);
    }
  }
  append_field(out, "Docker-Distribution-API-Version", "registry/2.0");
  append_field(out, "X-Request-Id", request.request_id);
  if (bodiless(response)) {
    // no Content-Length
  } else if (sends_file(response, request)) {
    append_field(out, "Content-Length", std::to_string(response.file_length));
  } else if (const auto* given = response.find("Content-Length"); request.method == Method::head && given != nullptr) {
    append_field(out, "Content-Length", *given);
  } else {
    append_field(out, "Content-Length", std::to_string(response.body.size()));
  }
  if (version == 10 && keep_alive) {
    append_field(out, "Connection", "keep-alive");
  } else if (version != 10 && !keep_alive) {
    append_field(out, "Connection", "close");
  }
  out.append("\r\n");
  return out;
}

}  // namespace regd::daemon
