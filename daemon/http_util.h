// Small HTTP helpers shared by the route groups: query strings, byte ranges, conditional
// requests. Pure functions over strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"

namespace regd::daemon {

// Decodes %XX escapes. '+' stays '+' (media types in artifactType contain '+', never spaces).
// Errors: invalid_argument (a '%' not followed by two hex digits).
[[nodiscard]] Result<std::string> percent_decode(std::string_view text);

// Percent-encodes everything outside RFC 3986 unreserved characters (for Link headers).
std::string percent_encode(std::string_view text);

// Every value of parameter `name` in a raw query string, decoded, in order.
std::vector<std::string> query_values(std::string_view query, std::string_view name);
// The first value of parameter `name`, decoded; nullopt when absent or undecodable.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

// A satisfiable byte range [first, last] of a representation.
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};

enum class RangeKind { none, single, unsatisfiable };

struct RangeRequest {
  RangeKind kind = RangeKind::none;
  ByteRange range;
};

// Interprets a Range header ("bytes=a-b", "bytes=a-", "bytes=-n") against a representation of
// `size` bytes. Syntax errors, other units and multiple ranges yield `none` (serve it whole, as
// RFC 9110 allows); a well-formed range outside the content, or one whose last position is
// before its first (bytes=500-0, as the distribution spec requires), yields `unsatisfiable`.
RangeRequest parse_range(std::string_view header, uint64_t size);

// Parses an upload Content-Range: "<first>-<last>" (the spec's form) or "bytes <first>-<last>"
// with an optional "/<total>". Errors: range_invalid.
[[nodiscard]] Result<ByteRange> parse_content_range(std::string_view header);

// True when an If-None-Match header value matches the entity tag `etag` (quoted) or is "*".
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// Strips spaces and tabs (RFC 9110's optional whitespace) from both ends.
std::string_view trim_ows(std::string_view text);

// True when a manifest reference is a digest ("sha256:..."), false for a tag.
bool is_digest_reference(std::string_view reference);

// Parses a decimal uint64 with nothing else around it.
std::optional<uint64_t> parse_uint(std::string_view text);

}  // namespace regd::daemon
