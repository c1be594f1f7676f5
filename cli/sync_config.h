// regctl sync's file: which repositories to mirror, from where to where, which tags.
//
//   {"mirrors": [
//     {"source": "docker://127.0.0.1:5000/team/app", "target": "mirror/app",
//      "tags": ["v*", "/^release-[0-9]+$/"], "newest": 3, "referrers": true},
//     {"source": "mirror/app", "target": "docker://127.0.0.1:5001/team/app", "tags": ["*"]}]}
//
// source and target: a repository of the storage tree or docker://HOST[:PORT]/REPO (no tag);
// tags: globs ('*', '?', as --immutable-tags) or /regular expressions/ (ECMAScript, searched in
// the tag: anchor them with ^ and $); newest: only the N greatest matching tags in version order
// (as sort -V: the distribution API has no push times); referrers: copy them too.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"

namespace regd::cli {

struct TagFilter {
  std::string text;                 // as written
  std::optional<std::regex> regex;  // when written /.../
};

struct SyncRule {
  std::string source;
  std::string target;
  std::vector<TagFilter> tags;
  std::optional<uint64_t> newest;
  bool referrers = false;
};

// Errors: invalid_argument naming the mirror (by index) and the field.
[[nodiscard]] Result<std::vector<SyncRule>> parse_sync_config(std::string_view text);

// The tags of `all` the rule selects, greatest version first when `newest` is set (then at most
// that many), else sorted.
std::vector<std::string> select_tags(const SyncRule& rule, std::vector<std::string> all);

// Version order of tag names (as sort -V): digit runs compare as numbers.
bool version_less(std::string_view a, std::string_view b);

}  // namespace regd::cli
