// The authentication and authorization step of dispatch() (docs/security.md): who the caller
// is (HTTP Basic against the htpasswd file, a Bearer token regd or a trusted issuer signed, a
// TLS client certificate, or nobody), and whether the access rules (intersected with a token's
// access claims) let it do what the route needs. Also issues regd's own tokens for the token
// endpoint. Everything it decides, any instance decides alike: the only process-local state is
// the credential cache, which only ever repeats a decision.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth_rules.h"
#include "auth_token.h"
#include "config.h"
#include "http_types.h"
#include "metrics.h"
#include "regd/error.h"
#include "router.h"

namespace regd::daemon {

// Who sent a request.
struct Identity {
  Caller caller;
  bool credentials = false;  // the request carried credentials (a header, a token, a client certificate)
  bool token = false;        // they were a Bearer token: `access` bounds what the request may do
  std::vector<Scope> access;
};

// A token for the token endpoint's answer.
struct IssuedToken {
  std::string token;
  std::chrono::seconds expires_in{0};
  std::chrono::system_clock::time_point issued_at;
};

// One file a reload read: its option key ("htpasswd", "auth-rules", "token-key", "token-trust")
// and whether it loaded (else it kept its previous content).
struct FileReload {
  std::string key;
  Status status;
};

struct AuthState;
struct Need;

class Auth {
 public:
  // Loads every configured file. Errors: invalid_argument "<file>: line N: why" (a file that
  // does not parse), io_error "<file>: why" (cannot read it). REQUIRES: validate_auth_config
  // passed and config.enabled(). Refusals are counted in `metrics` (if not null), which must
  // outlive the Auth.
  [[nodiscard]] static Result<std::shared_ptr<Auth>> create(const AuthConfig& config, Metrics* metrics = nullptr);
  ~Auth();

  // Loads every configured file as create() does, without keeping anything (--check-config).
  // Returns every file's error (as create's), none when all load.
  static std::vector<Error> check_files(const AuthConfig& config);

  // Re-reads the files (SIGHUP) and returns each configured file's outcome: a file that fails
  // keeps its previous content. The credential cache starts empty either way. Thread-safe with
  // check(); REQUIRES: one reload at a time.
  std::vector<FileReload> reload();

  // The pipeline step: nullopt to go on (request.user and request.permissions set), else the
  // 401 UNAUTHORIZED (with WWW-Authenticate) or 403 DENIED response. Thread-safe.
  std::optional<Response> check(Request& request, const Route& route) const;

  // True when --token-key is given (the token endpoint is served).
  bool issues_tokens() const;
  // Checks a user name and password as Basic credentials are checked (the token endpoint's
  // POST grant_type=password); nullopt when they are wrong (counted as invalid credentials).
  std::optional<Identity> login(std::string_view user, std::string_view password) const;
  // A token for `identity` with the `requested` scopes it may have (requested ∩ rules).
  // Errors: io_error (signing failed), unsupported (no --token-key).
  [[nodiscard]] Result<IssuedToken> issue(const Identity& identity, const std::vector<Scope>& requested) const;
  // --token-service.
  const std::string& service() const { return m_config.token_service; }

 private:
  // Why credentials were refused; `bearer` when they were a token.
  struct Failure {
    bool bearer = false;
    std::string message;
  };
  using Authenticated = std::expected<std::shared_ptr<const Identity>, Failure>;

  explicit Auth(AuthConfig config);
  std::shared_ptr<const AuthState> state() const { return m_state.load(); }
  Authenticated authenticate(const AuthState& state, const Request& request) const;
  Authenticated basic(const AuthState& state, std::string_view header, std::string_view value) const;
  Authenticated bearer(const AuthState& state, std::string_view header, std::string_view value) const;
  std::string realm(const Request& request) const;
  Response unauthorized(const AuthState& state, const Request& request, const Need& need, std::string_view message,
                        std::string_view error, bool basic) const;
  void count(AuthFailure reason) const;

  AuthConfig m_config;
  std::chrono::seconds m_token_ttl{0};
  std::chrono::seconds m_cache_ttl{0};
  std::atomic<std::shared_ptr<const AuthState>> m_state;
  Metrics* m_metrics = nullptr;
};

}  // namespace regd::daemon
