// The access-rules file (docs/security.md, "Authorization"): who may pull, push and delete in
// which repositories. Parsing is a pure function over text; a parsed AccessRules is immutable
// and safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"

namespace regd::daemon {

// A set of repository actions, as bits.
using Actions = uint8_t;
inline constexpr Actions k_pull = 1;
inline constexpr Actions k_push = 2;
inline constexpr Actions k_delete = 4;
inline constexpr Actions k_all_actions = k_pull | k_push | k_delete;

// "pull,push": comma-separated pull, push, delete or * (all three); blanks around names are
// ignored. Strict: an unknown name is invalid_argument. Lenient (token scopes, where clients
// and issuers may name actions regd has no use for): unknown names are dropped.
[[nodiscard]] Result<Actions> parse_actions(std::string_view text, bool strict);
// "pull,push,delete" in that order; "" for none.
std::string format_actions(Actions actions);

// Repository globs: '*' any run of characters except '/', '**' any run including '/', '?' one
// character except '/'; everything else literal.
bool glob_match(std::string_view glob, std::string_view name);

// The caller a decision is about: a user name, or anonymous.
struct Caller {
  std::string user;            // empty: anonymous
  bool authenticated = false;  // true exactly when `user` is not empty
};

struct AccessRule {
  enum class Subject { user, group, anonymous, authenticated, everyone };
  Subject subject = Subject::everyone;
  std::string name;  // user or group name
  std::string glob;
  Actions actions = 0;
};

class AccessRules {
 public:
  // What `caller` may do in `repository`: the union of every matching rule, nothing by default.
  Actions allowed(const Caller& caller, std::string_view repository) const;
  // True when some rule lets `caller` pull somewhere: such a caller may list the catalog, which
  // then shows only what it may pull.
  bool pulls_anywhere(const Caller& caller) const;

  std::vector<AccessRule> rules;
  std::map<std::string, std::set<std::string>, std::less<>> groups;  // group -> members

 private:
  bool applies(const AccessRule& rule, const Caller& caller) const;
};

// Parses the rules file. Errors: invalid_argument "line N: why" (a line that does not parse, an
// unknown action, a glob with characters no repository name has, a group used but never
// defined or defined twice).
[[nodiscard]] Result<AccessRules> parse_access_rules(std::string_view text);

// The rules without a rules file: every authenticated user may do everything, anonymous nothing.
AccessRules default_access_rules();

}  // namespace regd::daemon
