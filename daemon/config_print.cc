#include "config_print.h"

#include <set>
#include <sstream>

#include <CLI/CLI.hpp>

#include "config.h"

namespace regd::daemon {
namespace {

const std::set<std::string> k_not_keys = {"help",         "version",      "config",
                                          "print-config", "check-config", "example-config"};

bool is_flag(const CLI::Option& option) {
  return option.get_expected_min() == 0;
}

bool is_text(const CLI::Option& option) {
  return !is_flag(option) && option.get_type_name().starts_with("TEXT");
}

// A repeatable option (--upstream): a TOML array of strings.
bool is_list(const CLI::Option& option) {
  return option.get_expected_max() > 1;
}

// CLI11's reader strips one pair of quotes and does no escaping, so any text fits in "...";
// only '#' (a comment to CLI11, even inside quotes) and line breaks cannot be written.
std::string toml_string(const std::string& text) {
  return "\"" + text + "\"";
}

// The flag's value: its last result when one was given (command line, environment, file).
std::string flag_value(const CLI::Option& option) {
  if (option.count() == 0) {
    return option.get_default_str().empty() ? "false" : option.get_default_str();
  }
  return option.as<bool>() ? "true" : "false";
}

// Every option's value in a configuration nobody changed: the defaults.
std::map<std::string, std::string> default_values() {
  CLI::App app;
  Config config;
  add_config_options(app, config);
  return config_values(app);
}

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

}  // namespace

std::vector<CLI::Option*> config_options(CLI::App& app) {
  std::vector<CLI::Option*> options;
  for (CLI::Option* option : app.get_options()) {
    if (!option->get_lnames().empty() && !k_not_keys.contains(option->get_lnames().front())) {
      options.push_back(option);
    }
  }
  return options;
}

std::string config_key(const CLI::Option& option) {
  return option.get_lnames().empty() ? std::string() : option.get_lnames().front();
}

std::string config_value(CLI::Option& option) {
  if (is_flag(option)) {
    return flag_value(option);
  }
  if (is_list(option)) {
    std::string array = "[";
    for (const std::string& item : option.results()) {
      array += (array.size() > 1 ? ", " : "") + toml_string(item);
    }
    return array + "]";
  }
  bool boolean = option.get_type_name().starts_with("BOOLEAN");
  if (boolean && option.count() > 0) {
    return option.as<bool>() ? "true" : "false";
  }
  if (option.count() > 0) {
    // The text as given: CLI11 formats a double with 6 digits, which would not read back equal.
    auto results = option.reduced_results();
    std::string given = results.empty() ? std::string() : results.back();
    return is_text(option) ? toml_string(given) : given;
  }
  // CLI11 formats the bound variable through the option's default function: capture it and
  // put the default string (what --help shows) back.
  std::string saved = option.get_default_str();
  option.capture_default_str();
  std::string value = option.get_default_str();
  option.default_str(saved);
  if (boolean) {
    value = value == "1" || value == "true" ? "true" : "false";
  }
  return is_text(option) ? toml_string(value) : value;
}

bool is_secret_key(const std::string& key) {
  // Named for a credential, but a path to the file holding them, which --print-config must write
  // back as it is.
  static const std::set<std::string> k_paths = {"s3-credentials"};
  auto name = lower(key);
  if (k_paths.contains(name)) {
    return false;
  }
  for (const char* word : {"password", "secret", "credential"}) {
    if (name.find(word) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string redact(const std::string& key, const std::string& value) {
  if (is_secret_key(key)) {
    return toml_string("<redacted>");
  }
  auto scheme = value.find("://");
  if (scheme == std::string::npos) {
    return value;
  }
  auto authority = scheme + 3;
  auto end = value.find_first_of("/?#\"", authority);
  auto at = value.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at == std::string::npos || at < authority) {
    return value;
  }
  auto colon = value.find(':', authority);
  if (colon == std::string::npos || colon > at) {
    return value;  // a user name without a password
  }
  return value.substr(0, colon + 1) + "<redacted>" + value.substr(at);
}

std::string format_config(CLI::App& app, const ConfigSources& sources) {
  std::ostringstream out;
  out << "# regd's effective configuration (regd --print-config): flags, then REGD_* variables, then\n"
         "# the --config file, then the defaults. Secrets are <redacted>.\n";
  for (CLI::Option* option : config_options(app)) {
    auto key = config_key(*option);
    out << key << " = " << redact(key, config_value(*option));
    if (auto source = sources.find(key); source != sources.end()) {
      out << "  # " << source->second;
    }
    out << "\n";
  }
  return out.str();
}

std::string format_example(CLI::App& app, const ConfigSources& sources) {
  auto defaults = default_values();
  std::ostringstream out;
  for (CLI::Option* option : config_options(app)) {
    auto key = config_key(*option);
    auto value = redact(key, config_value(*option));
    out << "\n# " << option->get_description();
    if (!option->get_envname().empty()) {
      out << " (" << option->get_envname() << ")";
    }
    out << "\n";
    if (sources.contains(key) && value != defaults[key]) {
      out << "# default: " << defaults[key] << "\n" << key << " = " << value << "\n";
    } else {
      out << "# " << key << " = " << defaults[key] << "\n";
    }
  }
  return out.str();
}

std::map<std::string, std::string> config_values(CLI::App& app) {
  std::map<std::string, std::string> values;
  for (CLI::Option* option : config_options(app)) {
    values[config_key(*option)] = config_value(*option);
  }
  return values;
}

}  // namespace regd::daemon
