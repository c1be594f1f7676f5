// Base64 (RFC 4648) over OpenSSL's block coder: Basic credentials, auth files, JWT segments.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace regd {

// Standard alphabet, with padding.
std::string base64_encode(std::string_view data);

enum class Base64Form {
  padded,  // the standard alphabet with its padding (Basic credentials, auth files)
  any,     // also the URL alphabet and missing padding (JWT segments)
};

// Decodes `text`; nullopt when it is empty, longer than `max_text` characters or not of `form`.
std::optional<std::string> base64_decode(std::string_view text, Base64Form form = Base64Form::padded,
                                         size_t max_text = size_t{1} << 20);

}  // namespace regd
