#include "regd/reference.h"

namespace regd {

namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_tag_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// A separator between two alphanumeric runs: ".", "_", "__" or one or more "-".
bool valid_separator(std::string_view sep) {
  if (sep == "." || sep == "_" || sep == "__") {
    return true;
  }
  return !sep.empty() && sep.find_first_not_of('-') == std::string_view::npos;
}

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool valid_component(std::string_view component) {
  if (component.empty() || !is_lower_alnum(component.front()) || !is_lower_alnum(component.back())) {
    return false;
  }
  size_t i = 0;
  while (i < component.size()) {
    if (is_lower_alnum(component[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < component.size() && !is_lower_alnum(component[i])) {
      ++i;
    }
    if (!valid_separator(component.substr(start, i - start))) {
      return false;
    }
  }
  return true;
}

Status invalid_name(std::string_view name, std::string_view why) {
  return fail(Errc::name_invalid, "repository name \"" + std::string(name) + "\": " + std::string(why));
}

}  // namespace

Status validate_repository(std::string_view name) {
  if (name.empty()) {
    return invalid_name(name, "empty");
  }
  if (name.size() > k_max_name_length) {
    return invalid_name(name.substr(0, 32), "longer than " + std::to_string(k_max_name_length) + " characters");
  }
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    auto component = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!valid_component(component)) {
      return invalid_name(name, "invalid path component \"" + std::string(component) + "\"");
    }
    if (slash == std::string_view::npos) {
      return {};
    }
    start = slash + 1;
  }
}

Status validate_tag(std::string_view tag) {
  bool ok = !tag.empty() && tag.size() <= 128 && tag.front() != '.' && tag.front() != '-';
  for (size_t i = 0; ok && i < tag.size(); ++i) {
    ok = is_tag_char(tag[i]);
  }
  if (!ok) {
    return fail(Errc::tag_invalid, "tag \"" + std::string(tag.substr(0, 160)) + "\": invalid");
  }
  return {};
}

Result<Reference> Reference::parse(std::string_view text) {
  Reference ref;
  auto name = text;
  if (auto at = text.find('@'); at != std::string_view::npos) {
    auto digest = Digest::parse(text.substr(at + 1));
    if (!digest) {
      return std::unexpected(digest.error());
    }
    ref.digest = std::move(*digest);
    name = text.substr(0, at);
  }
  auto colon = name.rfind(':');
  auto slash = name.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    auto tag = name.substr(colon + 1);
    if (auto valid = validate_tag(tag); !valid) {
      return std::unexpected(valid.error());
    }
    ref.tag = std::string(tag);
    name = name.substr(0, colon);
  }
  if (auto valid = validate_repository(name); !valid) {
    return std::unexpected(valid.error());
  }
  ref.repository = std::string(name);
  return ref;
}

std::string Reference::target() const {
  if (digest) {
    return digest->str();
  }
  return tag.value_or("");
}

std::string Reference::str() const {
  std::string out = repository;
  if (tag) {
    out += ":" + *tag;
  }
  if (digest) {
    out += "@" + digest->str();
  }
  return out;
}

}  // namespace regd
