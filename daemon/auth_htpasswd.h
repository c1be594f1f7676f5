// The htpasswd file of HTTP Basic authentication: "user:hash" lines with bcrypt hashes, as
// `htpasswd -B` writes them. Parsing is a pure function over text; a parsed Htpasswd is
// immutable and safe to share between threads.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "regd/error.h"

namespace regd::daemon {

class Htpasswd {
 public:
  // True when `user` is listed and `password` matches its hash. Costs one bcrypt computation
  // whether or not the user exists (an unknown user is checked against a hash of the same
  // cost), so the time taken does not tell which users exist. Thread-safe.
  bool verify(std::string_view user, std::string_view password) const;
  size_t size() const { return m_hashes.size(); }

 private:
  friend Result<Htpasswd> parse_htpasswd(std::string_view text);
  std::map<std::string, std::string, std::less<>> m_hashes;  // user -> bcrypt hash
  std::string m_dummy;                                       // a hash of a random password, checked for unknown users
};

// Parses an htpasswd file. Blank lines and lines starting with '#' are ignored; a trailing
// '\r' is dropped. Errors: invalid_argument "line N: why" (no ':', an empty user, a user listed
// twice, a hash other than bcrypt $2y$/$2b$/$2a$ - e.g. MD5 $apr1$ or SHA1 {SHA} -, a malformed
// bcrypt hash, a bcrypt cost above 17). The message never contains a hash.
[[nodiscard]] Result<Htpasswd> parse_htpasswd(std::string_view text);

}  // namespace regd::daemon
