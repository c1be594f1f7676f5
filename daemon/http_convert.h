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

// The status line and header fields of `response`, through the blank line that ends them, with
// the API version, X-Request-Id, Content-Length and (when it differs from the version's default)
// Connection headers. Content-Length is the file's length for a file body, the handler's own for
// HEAD when it set one, the in-memory body's otherwise, and absent for 204 and 304. Written by
// hand: Beast's serializer walked its field list through iterator adaptors per byte run and was
// about 7 % of a manifest HEAD's CPU.
std::string response_head(const Response& response, const Request& request, unsigned version, bool keep_alive);

// Whether the in-memory body of `response` goes on the wire (not for HEAD, 204, 304 or a
// file or stream body).
bool sends_body(const Response& response, const Request& request);
// Whether its file or stream body does (not for HEAD, 204 or 304).
bool sends_file(const Response& response, const Request& request);

}  // namespace regd::daemon
