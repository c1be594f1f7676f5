// parse_access_rules over arbitrary text; the first line of the input is a repository name and
// a user asked about. Invariants: the union of rules never grants more than pull, push and
// delete; a caller with pull somewhere may list the catalog; glob_match of a glob with no
// wildcard is string equality.
#include "auth_rules.h"
#include "fuzz_util.h"

using regd::fuzz::require;
namespace d = regd::daemon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = regd::fuzz::text_of(data, size);
  auto text = input;
  auto query = regd::fuzz::take_until(text, '\n');
  auto user = regd::fuzz::take_until(query, ' ');
  auto repository = query;
  if (repository.find_first_of("*?") == std::string_view::npos) {
    require(d::glob_match(repository, repository), "a literal glob matches itself", input);
  }
  (void)d::glob_match(user, repository);
  if (auto actions = d::parse_actions(user, true)) {
    require(*actions <= d::k_all_actions, "actions are pull, push, delete", input);
    auto again = d::format_actions(*actions).empty() ? actions : d::parse_actions(d::format_actions(*actions), true);
    require(again.has_value() && *again == *actions, "actions round-trip", input);
  }
  auto rules = d::parse_access_rules(text);
  if (!rules) {
    return 0;
  }
  for (const d::Caller& caller : {d::Caller{}, d::Caller{std::string(user), !user.empty()}}) {
    auto allowed = rules->allowed(caller, repository);
    require(allowed <= d::k_all_actions, "rules grant only pull, push, delete", input);
    if ((allowed & d::k_pull) != 0) {
      require(rules->pulls_anywhere(caller), "a caller that pulls here pulls somewhere", input);
    }
  }
  return 0;
}
