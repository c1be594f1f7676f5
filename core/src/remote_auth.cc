#include "remote_auth.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <locale>
#include <sstream>

#include <nlohmann/json.hpp>

#include "regd/base64.h"
#include "regd/storage.h"

namespace regd::remote {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

void skip_blanks(std::string_view text, size_t& i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
    ++i;
  }
}

std::string read_token(std::string_view text, size_t& i) {
  size_t start = i;
  while (i < text.size() && is_token_char(text[i])) {
    ++i;
  }
  return std::string(text.substr(start, i - start));
}

// A quoted-string starting at text[i] == '"'; nullopt when it never closes.
std::optional<std::string> read_quoted(std::string_view text, size_t& i) {
  std::string value;
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      value += text[++i];
    } else if (text[i] == '"') {
      ++i;
      return value;
    } else {
      value += text[i];
    }
  }
  return std::nullopt;
}

// Reads one "name=value" parameter at i; false (i unchanged) when the text there is none.
bool read_param(std::string_view text, size_t& i, Challenge& challenge) {
  size_t start = i;
  std::string name = read_token(text, i);
  skip_blanks(text, i);
  if (name.empty() || i >= text.size() || text[i] != '=') {
    i = start;
    return false;
  }
  ++i;
  skip_blanks(text, i);
  std::optional<std::string> value;
  if (i < text.size() && text[i] == '"') {
    value = read_quoted(text, i);
  } else {
    value = read_token(text, i);
  }
  if (!value) {
    i = text.size();
    return false;
  }
  challenge.params[lower(name)] = *value;
  return true;
}

std::string trim_url(std::string_view key) {
  std::string_view k = key;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (k.starts_with(scheme)) {
      k.remove_prefix(scheme.size());
    }
  }
  return std::string(k.substr(0, k.find('/')));
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(Errc::not_found, "auth file " + path + ": cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<Challenge> parse_challenges(std::string_view header) {
  std::vector<Challenge> out;
  size_t i = 0;
  while (i < header.size()) {
    skip_blanks(header, i);
    if (i < header.size() && header[i] == ',') {
      ++i;
      continue;
    }
    std::string scheme = read_token(header, i);
    if (scheme.empty()) {
      break;
    }
    Challenge challenge{lower(scheme), {}};
    for (;;) {
      skip_blanks(header, i);
      if (!read_param(header, i, challenge)) {
        break;  // i is where the parameters ended (or the end, after an unterminated quote)
      }
      skip_blanks(header, i);
      if (i < header.size() && header[i] == ',') {
        ++i;
      }
    }
    out.push_back(std::move(challenge));
  }
  return out;
}

std::vector<std::string> auth_file_candidates(std::string_view auth_file,
                                              const std::function<std::optional<std::string>(const char*)>& env) {
  if (!auth_file.empty()) {
    return {std::string(auth_file)};
  }
  std::vector<std::string> files;
  if (auto file = env("REGISTRY_AUTH_FILE"); file && !file->empty()) {
    files.push_back(*file);
  }
  if (auto dir = env("XDG_RUNTIME_DIR"); dir && !dir->empty()) {
    files.push_back(*dir + "/containers/auth.json");
  }
  if (auto home = env("HOME"); home && !home->empty()) {
    files.push_back(*home + "/.docker/config.json");
  }
  return files;
}

Result<std::optional<Credentials>> credentials_in(std::string_view text, std::string_view host) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail(Errc::invalid_argument, "not a JSON object");
  }
  auto auths = json.find("auths");
  if (auths == json.end() || !auths->is_object()) {
    return std::optional<Credentials>();
  }
  for (const auto& [key, entry] : auths->items()) {
    if (trim_url(key) != host || !entry.is_object()) {
      continue;
    }
    auto auth = entry.find("auth");
    if (auth == entry.end() || !auth->is_string() || auth->get<std::string>().empty()) {
      continue;  // a credential helper's entry, or an identity token: nothing to use here
    }
    auto decoded = base64_decode(auth->get<std::string>(), Base64Form::padded, 1u << 16);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return fail(Errc::invalid_argument, "the \"auth\" of " + key + " is not base64 of user:password");
    }
    return std::optional<Credentials>(Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)});
  }
  return std::optional<Credentials>();
}

Result<std::optional<Credentials>> find_credentials(std::string_view host, std::string_view auth_file,
                                                    const std::function<std::optional<std::string>(const char*)>& env) {
  for (const auto& file : auth_file_candidates(auth_file, env)) {
    auto text = read_text_file(file);
    if (!text) {
      if (!auth_file.empty()) {
        return fail(Errc::invalid_argument, text.error().message);
      }
      continue;
    }
    auto found = credentials_in(*text, host);
    if (!found) {
      return fail(Errc::invalid_argument, "auth file " + file + ": " + found.error().message);
    }
    if (*found) {
      return found;
    }
  }
  return std::optional<Credentials>();
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') {
    value.remove_prefix(1);
  }
  while (!value.empty() && value.back() == ' ') {
    value.remove_suffix(1);
  }
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::ranges::all_of(value, [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) {
      return std::chrono::milliseconds(std::chrono::hours(24 * 365));
    }
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  std::tm tm{};
  std::istringstream in{std::string(value)};
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");  // IMF-fixdate, the form RFC 9110 requires
  if (in.fail()) {
    return std::nullopt;
  }
  time_t seconds = timegm(&tm);
  auto at = clock_from_seconds(seconds);
  if (!at) {  // beyond what the clock holds: long past, or as good as never
    return seconds < 0 ? std::chrono::milliseconds(0) : std::chrono::milliseconds(std::chrono::hours(24 * 365));
  }
  if (*at <= now) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*at - now);
}

std::chrono::milliseconds retry_delay(int attempt, std::optional<std::chrono::milliseconds> retry_after,
                                      std::chrono::milliseconds base, std::chrono::milliseconds cap) {
  if (retry_after) {
    return std::min(*retry_after, cap);
  }
  auto delay = base;
  for (int i = 1; i < attempt && delay < cap; ++i) {
    delay *= 2;
  }
  return std::min(delay, cap);
}

}  // namespace regd::remote
