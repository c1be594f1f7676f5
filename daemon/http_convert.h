// Conversions between Beast messages and the engine-independent Request/Response.
#pragma once

#include <string>
#include <utility>  // before Asio (its awaitable header needs std::exchange)

#include <boost/beast/http.hpp>

#include "http_types.h"

namespace regd::daemon {

// The longest X-Request-Id a client may choose.
inline constexpr size_t k_max_request_id = 64;

// The request of a parser that has read a header. X-Request-Id is kept when it is at most
// k_max_request_id RFC 9110 token characters (A-Z a-z 0-9 !#$%&'*+-.^_`|~), else a random id
// is made.
Request to_request(const boost::beast::http::request_parser<boost::beast::http::empty_body>& parser);

// A random 16-hex-digit request id.
std::string new_request_id();

// Builds the Beast response for `response` (its in-memory body moved in unless `head` or a
// bodiless status; for a file body, only the header with Content-Length). Adds the API version
// and X-Request-Id headers.
void to_beast(Response& response, const Request& request, unsigned version, bool keep_alive,
              boost::beast::http::response<boost::beast::http::string_body>& out);

}  // namespace regd::daemon
