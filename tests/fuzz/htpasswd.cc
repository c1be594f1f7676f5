// parse_htpasswd over arbitrary text, then one Basic check against the parsed file.
// Invariants: a parsed file lists at most one user per line; the check of a wrong password
// fails; an error message never quotes a hash.
// bcrypt costs 2^cost rounds by design: inputs naming a cost from 7 to 17 are skipped so the
// fuzzer stays fast (the parser treats every accepted cost alike); costs the parser must refuse
// (above 17) are kept, since accepting one would make a reload run for hours.
#include <algorithm>

#include "auth_htpasswd.h"
#include "fuzz_util.h"

using regd::fuzz::require;

namespace {

constexpr std::string_view k_first_user = "fuzz:$2y$04$asYY67KGQq1WdMkYqxWhAePaApuTWdUrP1CGR/kong5gNx3fHKZvK\n";

bool names_slow_cost(std::string_view text) {
  for (size_t at = text.find("$2"); at != std::string_view::npos; at = text.find("$2", at + 1)) {
    if (at + 6 <= text.size() && text[at + 3] == '$' && std::isdigit(static_cast<unsigned char>(text[at + 4])) &&
        std::isdigit(static_cast<unsigned char>(text[at + 5]))) {
      int cost = (text[at + 4] - '0') * 10 + (text[at + 5] - '0');
      if (cost >= 7 && cost <= 17) {
        return true;
      }
    }
  }
  return false;
}

// The message names the line ("line N: ...") and may name its user, never its hash. The message's
// own words may happen to contain the hash's text (the fuzzer finds such inputs): the hash is
// quoted only if the message no longer contains it once the hash is replaced by other bytes.
void check_error_message(std::string_view text, const std::string& message) {
  size_t number = 0;
  if (std::sscanf(message.c_str(), "line %zu:", &number) != 1) {
    return;
  }
  size_t begin = 0;
  for (size_t i = 1; i < number && begin < text.size(); ++i) {
    begin = std::min(text.find('\n', begin), text.size() - 1) + 1;
  }
  auto line = text.substr(begin, text.find('\n', begin) - begin);
  if (line.ends_with('\r')) {
    line.remove_suffix(1);
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return;
  }
  auto hash = line.substr(colon + 1);
  // Shorter text than a bcrypt hash may be part of the message's own words.
  if (hash.size() < 60 || message.find(hash) == std::string::npos) {
    return;
  }
  std::string other(text);
  other.replace(begin + colon + 1, hash.size(), hash.size(), '\x01');
  auto again = regd::daemon::parse_htpasswd(other);
  require(!again && again.error().message.find(hash) != std::string::npos, "errors never quote a hash", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = regd::fuzz::text_of(data, size);
  if (names_slow_cost(text)) {
    return 0;
  }
  // A first user of cost 4: the hash made for unknown users takes the most common cost, 10 for a
  // file without users, which would slow the fuzzer tenfold.
  auto with_user = std::string(k_first_user) + std::string(text);
  auto file = regd::daemon::parse_htpasswd(with_user);
  if (!file) {
    check_error_message(with_user, file.error().message);
    return 0;
  }
  auto lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 2;
  require(file->size() <= lines, "at most one user per line", text);
  auto rest = text;
  auto user = regd::fuzz::take_until(rest, ':');
  require(!file->verify(user, "\x01not the password"), "a wrong password is refused", text);
  return 0;
}
