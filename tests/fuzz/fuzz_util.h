// Shared by the fuzz targets: the input as a string_view, and invariant checks that abort (a
// finding for libFuzzer, a failed test for the replay driver) with a message.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace regd::fuzz {

inline std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Aborts with `what` when `condition` is false.
inline void require(bool condition, const char* what, std::string_view detail = {}) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant failed: %s [", what);
    std::fwrite(detail.data(), 1, detail.size(), stderr);
    std::fputs("]\n", stderr);
    std::abort();
  }
}

// Splits `text` at the first `separator`: the part before it is returned and removed from
// `text` with the separator; without one, all of `text` is returned and `text` becomes empty.
inline std::string_view take_until(std::string_view& text, char separator) {
  auto at = text.find(separator);
  auto head = text.substr(0, at);
  text = at == std::string_view::npos ? std::string_view{} : text.substr(at + 1);
  return head;
}

}  // namespace regd::fuzz
