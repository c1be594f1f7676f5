#include "auth_rules.h"

#include <algorithm>

#include "auth_text.h"

namespace regd::daemon {
namespace {

std::string_view trim_space(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) {
      ++i;
    }
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) {
      ++i;
    }
    if (i > start) {
      out.push_back(line.substr(start, i - start));
    }
  }
  return out;
}

// One element of a compiled glob: a literal character, '?', '*' or '**'.
enum class GlobToken : int { any_one = 256, star = 257, double_star = 258 };

std::vector<int> compile_glob(std::string_view glob) {
  std::vector<int> tokens;
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '*' && i + 1 < glob.size() && glob[i + 1] == '*') {
      tokens.push_back(static_cast<int>(GlobToken::double_star));
      ++i;
    } else if (glob[i] == '*') {
      tokens.push_back(static_cast<int>(GlobToken::star));
    } else if (glob[i] == '?') {
      tokens.push_back(static_cast<int>(GlobToken::any_one));
    } else {
      tokens.push_back(static_cast<unsigned char>(glob[i]));
    }
  }
  return tokens;
}

bool valid_glob(std::string_view glob) {
  return !glob.empty() && std::all_of(glob.begin(), glob.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/' ||
           c == '*' || c == '?';
  });
}

bool valid_group_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

Result<AccessRule> parse_subject(std::string_view text, size_t line) {
  AccessRule rule;
  if (text == "anonymous") {
    rule.subject = AccessRule::Subject::anonymous;
  } else if (text == "authenticated") {
    rule.subject = AccessRule::Subject::authenticated;
  } else if (text == "*") {
    rule.subject = AccessRule::Subject::everyone;
  } else if (text.starts_with("user:") && text.size() > 5) {
    rule.subject = AccessRule::Subject::user;
    rule.name = text.substr(5);
  } else if (text.starts_with("group:") && valid_group_name(text.substr(6))) {
    rule.subject = AccessRule::Subject::group;
    rule.name = text.substr(6);
  } else {
    return std::unexpected(line_error(
        line, "unknown subject '" + std::string(text) + "' (user:NAME, group:NAME, anonymous, authenticated or *)"));
  }
  return rule;
}

Result<AccessRule> parse_rule(const std::vector<std::string_view>& w, size_t line) {
  if (w.size() < 3) {
    return std::unexpected(line_error(line, "expected SUBJECT GLOB ACTIONS"));
  }
  auto rule = parse_subject(w[0], line);
  if (!rule) {
    return rule;
  }
  if (!valid_glob(w[1])) {
    return std::unexpected(line_error(
        line, "'" + std::string(w[1]) + "' is not a repository glob (a-z 0-9 . _ - / and the wildcards * ** ?)"));
  }
  rule->glob = w[1];
  std::string actions;
  for (size_t i = 2; i < w.size(); ++i) {
    actions += w[i];  // "pull, push" arrives as two words
  }
  auto parsed = parse_actions(actions, true);
  if (!parsed) {
    return std::unexpected(line_error(line, parsed.error().message));
  }
  rule->actions = *parsed;
  return rule;
}

// "group NAME: member ...". Returns the group's name.
Result<std::string> parse_group(const std::vector<std::string_view>& w, size_t line, AccessRules& rules) {
  if (w.size() < 2 || !w[1].ends_with(':') || !valid_group_name(w[1].substr(0, w[1].size() - 1))) {
    return std::unexpected(line_error(line, "expected 'group NAME: MEMBER...'"));
  }
  std::string name(w[1].substr(0, w[1].size() - 1));
  auto [it, inserted] = rules.groups.try_emplace(name);
  if (!inserted) {
    return std::unexpected(line_error(line, "group " + name + " is defined twice"));
  }
  for (size_t i = 2; i < w.size(); ++i) {
    it->second.emplace(w[i]);
  }
  return name;
}

}  // namespace

Result<Actions> parse_actions(std::string_view text, bool strict) {
  Actions actions = 0;
  while (true) {
    auto comma = text.find(',');
    auto name = trim_space(text.substr(0, comma));
    if (name == "pull") {
      actions |= k_pull;
    } else if (name == "push") {
      actions |= k_push;
    } else if (name == "delete") {
      actions |= k_delete;
    } else if (name == "*") {
      actions |= k_all_actions;
    } else if (strict) {
      return fail(Errc::invalid_argument, "unknown action '" + std::string(name) + "' (pull, push, delete or *)");
    }
    if (comma == std::string_view::npos) {
      return actions;
    }
    text.remove_prefix(comma + 1);
  }
}

std::string format_actions(Actions actions) {
  std::string out;
  for (auto [bit, name] : {std::pair{k_pull, "pull"}, std::pair{k_push, "push"}, std::pair{k_delete, "delete"}}) {
    if ((actions & bit) != 0) {
      out += out.empty() ? "" : ",";
      out += name;
    }
  }
  return out;
}

// Dynamic programming over (glob token, name position): linear in their product, so no glob
// can make a match slow.
bool glob_match(std::string_view glob, std::string_view name) {
  auto tokens = compile_glob(glob);
  std::vector<char> row(name.size() + 1, 0);  // row[j]: the tokens so far match name[0, j)
  row[0] = 1;
  for (int token : tokens) {
    std::vector<char> next(name.size() + 1, 0);
    for (size_t j = 0; j <= name.size(); ++j) {
      bool star = token == static_cast<int>(GlobToken::star) || token == static_cast<int>(GlobToken::double_star);
      if (star && (row[j] != 0 || (j > 0 && next[j - 1] != 0 &&
                                   (token == static_cast<int>(GlobToken::double_star) || name[j - 1] != '/')))) {
        next[j] = 1;
      } else if (!star && j > 0 && row[j - 1] != 0) {
        char c = name[j - 1];
        next[j] = token == static_cast<int>(GlobToken::any_one) ? c != '/' : token == static_cast<unsigned char>(c);
      }
    }
    row = std::move(next);
  }
  return row[name.size()] != 0;
}

bool AccessRules::applies(const AccessRule& rule, const Caller& caller) const {
  switch (rule.subject) {
    case AccessRule::Subject::everyone:
      return true;
    case AccessRule::Subject::anonymous:
      return !caller.authenticated;
    case AccessRule::Subject::authenticated:
      return caller.authenticated;
    case AccessRule::Subject::user:
      return caller.authenticated && caller.user == rule.name;
    case AccessRule::Subject::group: {
      auto group = groups.find(rule.name);
      return caller.authenticated && group != groups.end() && group->second.contains(caller.user);
    }
  }
  return false;
}

Actions AccessRules::allowed(const Caller& caller, std::string_view repository) const {
  Actions actions = 0;
  for (const AccessRule& rule : rules) {
    if ((actions | rule.actions) != actions && applies(rule, caller) && glob_match(rule.glob, repository)) {
      actions |= rule.actions;
    }
  }
  return actions;
}

bool AccessRules::pulls_anywhere(const Caller& caller) const {
  return std::any_of(rules.begin(), rules.end(),
                     [&](const AccessRule& rule) { return (rule.actions & k_pull) != 0 && applies(rule, caller); });
}

Result<AccessRules> parse_access_rules(std::string_view text) {
  AccessRules rules;
  std::vector<size_t> rule_lines;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    auto line = take_line(text);
    auto w = words(line.substr(0, line.find('#')));
    if (w.empty()) {
      continue;
    }
    if (w[0] == "group") {
      if (auto group = parse_group(w, number, rules); !group) {
        return std::unexpected(group.error());
      }
      continue;
    }
    auto rule = parse_rule(w, number);
    if (!rule) {
      return std::unexpected(rule.error());
    }
    rules.rules.push_back(std::move(*rule));
    rule_lines.push_back(number);
  }
  // Groups may be defined after the rules that use them; a name no line defines is a typo.
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    const AccessRule& rule = rules.rules[i];
    if (rule.subject == AccessRule::Subject::group && !rules.groups.contains(rule.name)) {
      return std::unexpected(line_error(rule_lines[i], "group " + rule.name + " is not defined"));
    }
  }
  return rules;
}

AccessRules default_access_rules() {
  AccessRules rules;
  rules.rules.push_back({AccessRule::Subject::authenticated, "", "**", k_all_actions});
  return rules;
}

}  // namespace regd::daemon
