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

void to_beast(Response& response, const Request& request, unsigned version, bool keep_alive,
              http::response<http::string_body>& out) {
  bool head = request.method == Method::head;
  bool bodiless = response.status == 204 || response.status == 304;
  bool with_file = (response.file || response.stream) && !head && !bodiless;
  out.version(version == 10 ? 10 : 11);
  out.result(response.status);
  for (auto& h : response.headers) {
    out.insert(h.name, h.value);
  }
  out.set("Docker-Distribution-API-Version", "registry/2.0");
  out.set("X-Request-Id", request.request_id);
  out.keep_alive(keep_alive);
  if (bodiless) {
    out.erase(http::field::content_length);
  } else if (with_file) {
    out.content_length(response.file_length);
  } else if (!head || !response.find("Content-Length")) {
    out.content_length(response.body.size());
  }
  if (!head && !bodiless && !with_file) {
    out.body() = std::move(response.body);
  }
}

}  // namespace regd::daemon
