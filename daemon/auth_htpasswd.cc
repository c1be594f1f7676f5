#include "auth_htpasswd.h"

#include <algorithm>
#include <cstring>
#include <expected>
#include <memory>
#include <string>

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth_text.h"

namespace regd::daemon {
namespace {

constexpr size_t k_bcrypt_length = 60;  // "$2y$" cost(2) '$' salt+hash(53)
// bcrypt runs 2^cost rounds. `htpasswd -B -C` accepts 4 to 17 (17: seconds per check); a higher
// cost would stall every login, and the parse itself, which hashes at the file's cost, for
// minutes to days (31: about a day).
constexpr int k_max_bcrypt_cost = 17;

bool bcrypt_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '/';
}

// The cost of a well-formed bcrypt hash, or -1.
int bcrypt_cost(std::string_view hash) {
  bool prefix = hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$");
  if (!prefix || hash.size() != k_bcrypt_length || hash[6] != '$' ||
      !std::isdigit(static_cast<unsigned char>(hash[4])) || !std::isdigit(static_cast<unsigned char>(hash[5]))) {
    return -1;
  }
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31 || !std::all_of(hash.begin() + 7, hash.end(), bcrypt_char)) {
    return -1;
  }
  return cost;
}

// The cost of a bcrypt hash regd accepts (see bcrypt_cost), or the reason it refuses it.
std::expected<int, std::string> accepted_cost(std::string_view hash, const std::string& user) {
  int cost = bcrypt_cost(hash);
  if (cost < 0) {
    return std::unexpected("the hash of user " + user + " is not bcrypt ($2y$, $2b$ or $2a$; use htpasswd -B)");
  }
  if (cost > k_max_bcrypt_cost) {
    return std::unexpected("the bcrypt cost of user " + user + " is " + std::to_string(cost) + ", above " +
                           std::to_string(k_max_bcrypt_cost) + " (htpasswd -B -C 4 to 17)");
  }
  return cost;
}

// bcrypt through libcrypt; the output buffer lives in crypt_data (about 32 KiB: on the heap).
bool bcrypt_matches(std::string_view password, const std::string& hash) {
  if (password.find('\0') != std::string_view::npos) {
    return false;
  }
  auto data = std::make_unique<crypt_data>();
  std::string plain(password);
  const char* out = crypt_r(plain.c_str(), hash.c_str(), data.get());
  OPENSSL_cleanse(plain.data(), plain.size());
  return out != nullptr && std::strlen(out) == hash.size() && CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

// A hash of a random password at `cost`, for unknown users.
std::string dummy_hash(int cost) {
  unsigned char random[16];
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  std::string out;
  if (RAND_bytes(random, sizeof random) == 1 &&
      crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), reinterpret_cast<const char*>(random), sizeof random,
                       salt, sizeof salt) != nullptr) {
    auto data = std::make_unique<crypt_data>();
    if (const char* hashed = crypt_r("unknown user", salt, data.get())) {
      out = hashed;
    }
  }
  return out;
}

}  // namespace

bool Htpasswd::verify(std::string_view user, std::string_view password) const {
  auto it = m_hashes.find(user);
  if (it == m_hashes.end()) {
    (void)bcrypt_matches(password, m_dummy);  // the same work, and always false
    return false;
  }
  return bcrypt_matches(password, it->second);
}

Result<Htpasswd> parse_htpasswd(std::string_view text) {
  Htpasswd file;
  std::map<int, size_t> costs;  // cost -> how many users
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    auto line = take_line(text);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos || line.starts_with('#')) {
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return std::unexpected(line_error(number, "expected USER:HASH"));
    }
    auto user = std::string(line.substr(0, colon));
    auto cost = accepted_cost(line.substr(colon + 1), user);
    if (!cost) {
      return std::unexpected(line_error(number, cost.error()));
    }
    if (!file.m_hashes.emplace(user, line.substr(colon + 1)).second) {
      return std::unexpected(line_error(number, "user " + user + " is listed twice"));
    }
    ++costs[*cost];
  }
  auto common =
      std::max_element(costs.begin(), costs.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  file.m_dummy = dummy_hash(common == costs.end() ? 10 : common->first);
  if (file.m_dummy.empty()) {
    return fail(Errc::io_error, "cannot make a bcrypt hash (libcrypt or the random source failed)");
  }
  return file;
}

}  // namespace regd::daemon
