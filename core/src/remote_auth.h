// The pieces of the registry client that need no network: WWW-Authenticate challenges, the auth
// files of podman/skopeo and docker, Retry-After. Private to regd_remote (and its tests).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"
#include "regd/remote.h"

namespace regd::remote {

// One challenge of a WWW-Authenticate header: its scheme in lower case ("basic", "bearer") and
// its parameters (names in lower case, quoted values unquoted).
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
};

// Parses a WWW-Authenticate value; several challenges may share one header, separated by
// commas (RFC 7235). Unparseable text yields the challenges before it.
std::vector<Challenge> parse_challenges(std::string_view header);

// Where credentials are looked up, in order (skopeo's): `auth_file` when given (then only it),
// else $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json, $HOME/.docker/config.json.
// `env` reads an environment variable (getenv in production).
std::vector<std::string> auth_file_candidates(std::string_view auth_file,
                                              const std::function<std::optional<std::string>(const char*)>& env);

// The credentials for `host` in one auth file's text ({"auths": {"HOST": {"auth": base64(user:pass)}}},
// also keys written as URLs, "https://HOST/v1/"). nullopt when the file does not name the host.
// Errors: invalid_argument (no JSON, an "auth" that is no base64 of "user:password").
[[nodiscard]] Result<std::optional<Credentials>> credentials_in(std::string_view text, std::string_view host);

// The first credentials for `host` among the candidate files (missing files are skipped; an
// explicit auth file that is missing is an error). Errors: invalid_argument, naming the file.
[[nodiscard]] Result<std::optional<Credentials>> find_credentials(
    std::string_view host, std::string_view auth_file,
    const std::function<std::optional<std::string>(const char*)>& env);

// A Retry-After value (seconds, or an HTTP-date compared with `now`) as a delay; nullopt when it
// does not parse. Past dates give 0.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// The delay before attempt `attempt` (1-based): Retry-After when given, else base * 2^(attempt-1);
// never more than `cap`.
std::chrono::milliseconds retry_delay(int attempt, std::optional<std::chrono::milliseconds> retry_after,
                                      std::chrono::milliseconds base, std::chrono::milliseconds cap);

}  // namespace regd::remote
