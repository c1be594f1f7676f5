// The sync file (regd/sync.h): parsing, loading and tag selection.
#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "regd/reference.h"
#include "regd/registry.h"
#include "regd/remote.h"
#include "regd/sync.h"

namespace regd::sync {

namespace {

Result<TagFilter> parse_filter(const std::string& text, const std::string& where) {
  if (text.size() >= 2 && text.front() == '/' && text.back() == '/') {
    try {
      return TagFilter{text, std::regex(text.substr(1, text.size() - 2), std::regex::ECMAScript)};
    } catch (const std::regex_error& e) {
      return fail(Errc::invalid_argument, where + ": tag regex " + text + ": " + e.what());
    }
  }
  auto checked = parse_tag_patterns(text);
  if (!checked || checked->size() != 1) {
    return fail(Errc::invalid_argument, where + ": tag pattern \"" + text +
                                            "\": " + (checked ? "one pattern per entry" : checked.error().message));
  }
  return TagFilter{text, std::nullopt};
}

// A repository end: docker://HOST/REPO or REPO, without tag or digest.
Status check_end(const std::string& text, const std::string& where) {
  if (remote::is_docker_ref(text)) {
    auto ref = remote::RemoteRef::parse(text);
    if (!ref) {
      return fail(Errc::invalid_argument, where + ": " + ref.error().message);
    }
    if (ref->tag || ref->digest) {
      return fail(Errc::invalid_argument, where + ": \"" + text + "\" must name a repository, without tag or digest");
    }
    return {};
  }
  if (auto ok = validate_repository(text); !ok) {
    return fail(Errc::invalid_argument, where + ": " + ok.error().message);
  }
  return {};
}

Result<SyncRule> parse_rule(const nlohmann::json& item, const std::string& where) {
  if (!item.is_object()) {
    return fail(Errc::invalid_argument, where + ": not an object");
  }
  SyncRule rule;
  for (const auto& [key, value] : item.items()) {
    if (key == "source" || key == "target") {
      if (!value.is_string()) {
        return fail(Errc::invalid_argument, where + "." + key + ": not a string");
      }
      (key == "source" ? rule.source : rule.target) = value.get<std::string>();
    } else if (key == "tags") {
      if (!value.is_array() || value.empty()) {
        return fail(Errc::invalid_argument, where + ".tags: not a non-empty array");
      }
      for (const auto& tag : value) {
        if (!tag.is_string()) {
          return fail(Errc::invalid_argument, where + ".tags: not a string");
        }
        auto filter = parse_filter(tag.get<std::string>(), where + ".tags");
        if (!filter) {
          return std::unexpected(filter.error());
        }
        rule.tags.push_back(std::move(*filter));
      }
    } else if (key == "newest") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() == 0) {
        return fail(Errc::invalid_argument, where + ".newest: not a positive integer");
      }
      rule.newest = value.get<uint64_t>();
    } else if (key == "referrers") {
      if (!value.is_boolean()) {
        return fail(Errc::invalid_argument, where + ".referrers: not true or false");
      }
      rule.referrers = value.get<bool>();
    } else {
      return fail(Errc::invalid_argument, where + ": unknown key \"" + key + "\"");
    }
  }
  if (rule.source.empty() || rule.target.empty() || rule.tags.empty()) {
    return fail(Errc::invalid_argument, where + ": source, target and tags are required");
  }
  for (const auto& [end, name] : {std::pair{&rule.source, ".source"}, std::pair{&rule.target, ".target"}}) {
    if (auto ok = check_end(*end, where + name); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (!remote::is_docker_ref(rule.source) && !remote::is_docker_ref(rule.target)) {
    return fail(Errc::invalid_argument, where + ": source or target must be docker:// (use regctl cp within the tree)");
  }
  return rule;
}

bool matches(const SyncRule& rule, const std::string& tag) {
  return std::ranges::any_of(rule.tags, [&](const TagFilter& filter) {
    return filter.regex ? std::regex_search(tag, *filter.regex) : tag_matches_any(tag, {filter.text});
  });
}

}  // namespace

Result<std::vector<SyncRule>> parse_sync_config(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("mirrors") || !json["mirrors"].is_array()) {
    return fail(Errc::invalid_argument, "not a JSON object with a \"mirrors\" array");
  }
  for (const auto& [key, value] : json.items()) {
    if (key != "mirrors") {
      return fail(Errc::invalid_argument, "unknown key \"" + key + "\"");
    }
  }
  std::vector<SyncRule> rules;
  for (size_t i = 0; i < json["mirrors"].size(); ++i) {
    auto rule = parse_rule(json["mirrors"][i], "mirrors[" + std::to_string(i) + "]");
    if (!rule) {
      return std::unexpected(rule.error());
    }
    rules.push_back(std::move(*rule));
  }
  return rules;
}

Result<std::vector<SyncRule>> load_sync_file(const std::string& path) {
  constexpr std::streamoff k_max_size = 1 << 20;
  std::ifstream input(path, std::ios::binary | std::ios::ate);
  std::streamoff size = input ? static_cast<std::streamoff>(input.tellg()) : -1;
  if (size < 0) {
    return fail(Errc::invalid_argument, path + ": cannot read the sync file");
  }
  if (size > k_max_size) {
    return fail(Errc::invalid_argument, path + ": larger than 1 MiB");
  }
  std::string text(static_cast<size_t>(size), '\0');
  input.seekg(0);
  if (!input.read(text.data(), size)) {
    return fail(Errc::invalid_argument, path + ": cannot read the sync file");
  }
  auto rules = parse_sync_config(text);
  if (!rules) {
    return fail(Errc::invalid_argument, path + ": " + rules.error().message);
  }
  return rules;
}

bool reads_storage(const std::vector<SyncRule>& rules) {
  return std::ranges::any_of(rules, [](const SyncRule& rule) { return !remote::is_docker_ref(rule.source); });
}

bool writes_storage(const std::vector<SyncRule>& rules) {
  return std::ranges::any_of(rules, [](const SyncRule& rule) { return !remote::is_docker_ref(rule.target); });
}

bool version_less(std::string_view a, std::string_view b) {
  size_t i = 0;
  size_t j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t si = i;
      size_t sj = j;
      while (si < a.size() && a[si] == '0') {
        ++si;
      }
      while (sj < b.size() && b[sj] == '0') {
        ++sj;
      }
      size_t ei = si;
      size_t ej = sj;
      while (ei < a.size() && digit(a[ei])) {
        ++ei;
      }
      while (ej < b.size() && digit(b[ej])) {
        ++ej;
      }
      if (ei - si != ej - sj) {
        return ei - si < ej - sj;
      }
      if (auto cmp = a.substr(si, ei - si).compare(b.substr(sj, ej - sj)); cmp != 0) {
        return cmp < 0;
      }
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) {
      return a[i] < b[j];
    }
    ++i;
    ++j;
  }
  if (a.size() - i != b.size() - j) {
    return a.size() - i < b.size() - j;
  }
  return a < b;  // equal as versions ("1" and "01"): any fixed order
}

std::vector<std::string> select_tags(const SyncRule& rule, std::vector<std::string> all) {
  std::erase_if(all, [&](const std::string& tag) { return !matches(rule, tag); });
  if (!rule.newest) {
    std::ranges::sort(all);
    return all;
  }
  std::ranges::sort(all, [](const std::string& a, const std::string& b) { return version_less(b, a); });
  if (all.size() > *rule.newest) {
    all.resize(*rule.newest);
  }
  return all;
}

}  // namespace regd::sync
