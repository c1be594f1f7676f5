// Repository names, tags and image references, validated exactly as the OCI distribution spec
// grammar says. A valid name can never express a path traversal ("..", "a//b", "/a", "a/").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "regd/digest.h"
#include "regd/error.h"

namespace regd {

// Longest repository name accepted (as registry:2).
inline constexpr size_t k_max_name_length = 255;

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*, at most 255 chars.
// Errors: name_invalid.
[[nodiscard]] Status validate_repository(std::string_view name);

// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}. Errors: tag_invalid.
[[nodiscard]] Status validate_tag(std::string_view tag);

// "repo", "repo:tag", "repo@digest" or "repo:tag@digest".
struct Reference {
  std::string repository;
  std::optional<std::string> tag;
  std::optional<Digest> digest;

  // Errors: name_invalid, tag_invalid, digest_invalid, unsupported.
  [[nodiscard]] static Result<Reference> parse(std::string_view text);
  // The tag or digest part alone ("latest", "sha256:…"); the digest wins when both are set;
  // empty when neither is.
  std::string target() const;
  std::string str() const;
};

}  // namespace regd
