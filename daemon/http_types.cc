#include "http_types.h"

#include <algorithm>
#include <cctype>

namespace regd::daemon {

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) {
      return h.value;
    }
  }
  return {};
}

void Response::set(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, name); });
  headers.push_back({std::string(name), std::move(value)});
}

void Response::add(std::string_view name, std::string value) {
  headers.push_back({std::string(name), std::move(value)});
}

const std::string* Response::find(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) {
      return &h.value;
    }
  }
  return nullptr;
}

}  // namespace regd::daemon
