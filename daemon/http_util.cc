#include "http_util.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace regd::daemon {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Calls visit(name, raw_value) for each "name=value" pair of a query string.
template <class Visit>
void for_each_param(std::string_view query, Visit visit) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    visit(pair.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
  }
}

}  // namespace

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_digest_reference(std::string_view reference) {
  return reference.find(':') != std::string_view::npos;
}

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return fail(Errc::invalid_argument, "bad percent escape");
    }
    int hi = hex_value(text[i + 1]);
    int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) {
      return fail(Errc::invalid_argument, "bad percent escape");
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(k_hex[u >> 4]);
      out.push_back(k_hex[u & 15]);
    }
  }
  return out;
}

std::vector<std::string> query_values(std::string_view query, std::string_view name) {
  std::vector<std::string> values;
  for_each_param(query, [&](std::string_view key, std::string_view raw) {
    auto decoded_key = percent_decode(key);
    if (!decoded_key || *decoded_key != name) {
      return;
    }
    if (auto value = percent_decode(raw)) {
      values.push_back(std::move(*value));
    }
  });
  return values;
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
  auto values = query_values(query, name);
  if (values.empty()) {
    return std::nullopt;
  }
  return std::move(values.front());
}

std::optional<uint64_t> parse_uint(std::string_view text) {
  uint64_t value = 0;
  if (text.empty()) {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

RangeRequest parse_range(std::string_view header, uint64_t size) {
  header = trim_ows(header);
  if (!header.starts_with("bytes=")) {
    return {};
  }
  auto spec = trim_ows(header.substr(6));
  auto dash = spec.find('-');
  if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos) {
    return {};
  }
  auto first_text = trim_ows(spec.substr(0, dash));
  auto last_text = trim_ows(spec.substr(dash + 1));
  if (first_text.empty()) {
    auto suffix = parse_uint(last_text);
    if (!suffix) {
      return {};
    }
    if (*suffix == 0 || size == 0) {
      return {RangeKind::unsatisfiable, {}};
    }
    uint64_t n = std::min(*suffix, size);
    return {RangeKind::single, {size - n, size - 1}};
  }
  auto first = parse_uint(first_text);
  auto last = last_text.empty() ? std::optional<uint64_t>(UINT64_MAX) : parse_uint(last_text);
  if (!first || !last) {
    return {};
  }
  // A last position before the first (bytes=500-0) is refused with 416, not served whole: the
  // distribution spec asks for it, where RFC 9110 would allow ignoring the header.
  if (*last < *first || *first >= size) {
    return {RangeKind::unsatisfiable, {}};
  }
  return {RangeKind::single, {*first, std::min(*last, size - 1)}};
}

Result<ByteRange> parse_content_range(std::string_view header) {
  auto text = trim_ows(header);
  if (text.starts_with("bytes ")) {
    text = trim_ows(text.substr(6));
  } else if (text.starts_with("bytes=")) {
    text = trim_ows(text.substr(6));
  }
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    text = text.substr(0, slash);
  }
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    return fail(Errc::range_invalid, "malformed Content-Range: " + std::string(header));
  }
  auto first = parse_uint(text.substr(0, dash));
  auto last = parse_uint(text.substr(dash + 1));
  if (!first || !last || *last < *first) {
    return fail(Errc::range_invalid, "malformed Content-Range: " + std::string(header));
  }
  return ByteRange{*first, *last};
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    auto item = trim_ows(if_none_match.substr(0, comma));
    if_none_match = comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
    if (item.starts_with("W/")) {
      item.remove_prefix(2);
    }
    if (item == "*" || item == etag) {
      return true;
    }
  }
  return false;
}

}  // namespace regd::daemon
