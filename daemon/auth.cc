#include "auth.h"

#include <fstream>
#include <sstream>

#include "auth_cache.h"
#include "auth_htpasswd.h"
#include "auth_policy.h"
#include "error_table.h"
#include "http_util.h"
#include "regd/base64.h"
#include "regd/duration.h"
#include "regd/reference.h"

namespace regd::daemon {

// Everything loaded from the files, swapped whole on reload. The cache belongs to one state, so
// a reload drops every remembered credential.
struct AuthState {
  std::optional<Htpasswd> htpasswd;
  AccessRules rules;
  std::optional<SigningKey> signing_key;
  std::vector<PublicKey> trusted;  // --token-trust
  std::vector<TokenTrust> trusts;  // regd's own key, then the external issuer's
  std::unique_ptr<CredentialCache> cache;
};

namespace {

constexpr size_t k_cache_capacity = 10000;

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return fail(Errc::io_error, path + ": cannot read");
  }
  if (!in.is_open()) {
    return fail(Errc::io_error, path + ": cannot open");
  }
  return text.str();
}

// Reads `path` and parses it; errors are prefixed with the path.
template <class Parse>
auto load(const std::string& path, Parse parse) -> decltype(parse(std::string_view())) {
  auto text = read_file(path);
  if (!text) {
    return std::unexpected(text.error());
  }
  auto parsed = parse(*text);
  if (!parsed) {
    return std::unexpected(Error{parsed.error().code, path + ": " + parsed.error().message});
  }
  return parsed;
}

// Loads the file of one option into `slot`; on reload a failure keeps what `slot` held.
template <class T, class Parse>
Status load_into(const std::string& path, Parse parse, T& slot) {
  if (path.empty()) {
    return {};
  }
  auto parsed = load(path, parse);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  slot = std::move(*parsed);
  return {};
}

// Loads every configured file over `state` (a copy of the previous one on reload). Returns each
// configured file's option key and outcome; a failed file left its part of `state` as it was.
std::vector<FileReload> load_files(const AuthConfig& config, AuthState& state) {
  std::vector<FileReload> loaded;
  auto keep = [&](const char* key, const std::string& path, Status status) {
    if (!path.empty()) {
      loaded.push_back(FileReload{key, std::move(status)});
    }
  };
  keep("htpasswd", config.htpasswd, load_into(config.htpasswd, parse_htpasswd, state.htpasswd));
  keep("auth-rules", config.auth_rules, load_into(config.auth_rules, parse_access_rules, state.rules));
  keep("token-key", config.token_key, load_into(config.token_key, parse_signing_key, state.signing_key));
  keep("token-trust", config.token_trust, load_into(config.token_trust, parse_trusted_keys, state.trusted));
  state.trusts.clear();
  if (state.signing_key) {
    state.trusts.push_back({config.token_issuer, {state.signing_key->public_key}});
  }
  if (!state.trusted.empty()) {
    state.trusts.push_back({config.token_trust_issuer, state.trusted});
  }
  return loaded;
}

// The user and password of a Basic credential ("user:password", base64).
std::optional<std::pair<std::string, std::string>> decode_basic(std::string_view encoded) {
  auto decoded = base64_decode(encoded, Base64Form::any);
  if (!decoded) {
    return std::nullopt;
  }
  auto colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) {
    return std::nullopt;
  }
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

// True for Basic credentials with an empty user and password (base64 of ":"). skopeo and podman
// (containers/image) send exactly that after a Basic challenge when they have no credentials:
// it is an anonymous request, not a failed login.
bool empty_basic(std::string_view encoded) {
  auto decoded = base64_decode(encoded, Base64Form::any);
  return decoded && *decoded == ":";
}

// Splits "Scheme credentials"; the scheme is compared case-insensitively (RFC 9110).
std::pair<std::string, std::string_view> split_authorization(std::string_view header) {
  auto space = header.find(' ');
  std::string scheme(header.substr(0, space));
  for (char& c : scheme) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto rest = space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
  while (rest.starts_with(' ')) {
    rest.remove_prefix(1);
  }
  return {scheme, rest};
}

const std::shared_ptr<const Identity>& anonymous() {
  static const auto k_anonymous = std::make_shared<const Identity>();
  return k_anonymous;
}

class CallerPermissions : public Permissions {
 public:
  CallerPermissions(std::shared_ptr<const AuthState> state, std::shared_ptr<const Identity> identity)
      : m_state(std::move(state)), m_identity(std::move(identity)) {}
  bool may_pull(std::string_view repository) const override {
    Need need{Need::Kind::repository, std::string(repository), k_pull, k_pull};
    return decide(m_state->rules, *m_identity, need) == Verdict::allow;
  }
  bool may_list(std::string_view repository) const override {
    return (m_state->rules.allowed(m_identity->caller, repository) & k_pull) != 0;
  }

 private:
  std::shared_ptr<const AuthState> m_state;
  std::shared_ptr<const Identity> m_identity;
};

}  // namespace

Auth::Auth(AuthConfig config) : m_config(std::move(config)) {
  m_token_ttl = *parse_duration(m_config.token_ttl);
  m_cache_ttl = *parse_duration(m_config.auth_cache_ttl);
}

Auth::~Auth() = default;

Result<std::shared_ptr<Auth>> Auth::create(const AuthConfig& config, Metrics* metrics) {
  std::shared_ptr<Auth> auth(new Auth(config));
  auth->m_metrics = metrics;
  auto state = std::make_shared<AuthState>();
  state->rules = default_access_rules();
  for (const FileReload& file : load_files(config, *state)) {
    if (!file.status) {
      return std::unexpected(file.status.error());
    }
  }
  state->cache = std::make_unique<CredentialCache>(auth->m_cache_ttl, k_cache_capacity);
  auth->m_state.store(std::move(state));
  return auth;
}

std::vector<Error> Auth::check_files(const AuthConfig& config) {
  AuthState scratch;
  std::vector<Error> errors;
  for (const FileReload& file : load_files(config, scratch)) {
    if (!file.status) {
      errors.push_back(file.status.error());
    }
  }
  return errors;
}

std::vector<FileReload> Auth::reload() {
  auto old = state();
  auto next = std::make_shared<AuthState>();
  next->htpasswd = old->htpasswd;
  next->rules = old->rules;
  next->signing_key = old->signing_key;
  next->trusted = old->trusted;
  auto loaded = load_files(m_config, *next);
  next->cache = std::make_unique<CredentialCache>(m_cache_ttl, k_cache_capacity);
  m_state.store(std::move(next));
  return loaded;
}

void Auth::count(AuthFailure reason) const {
  if (m_metrics != nullptr) {
    m_metrics->auth_failed(reason);
  }
}

std::string Auth::realm(const Request& request) const {
  return m_config.token_realm.empty() ? default_realm(request) : m_config.token_realm;
}

// 401 with the challenge a client answers: Bearer when tokens are configured (except at the
// token endpoint itself, which takes Basic credentials), else Basic.
Response Auth::unauthorized(const AuthState& state, const Request& request, const Need& need, std::string_view message,
                            std::string_view error, bool basic) const {
  auto r = error_response(401, "UNAUTHORIZED", message);
  bool bearer = !basic && !state.trusts.empty();
  r.set("WWW-Authenticate", bearer
                                ? bearer_challenge(realm(request), m_config.token_service, challenge_scope(need), error)
                                : basic_challenge(m_config.token_service));
  return r;
}

Auth::Authenticated Auth::basic(const AuthState& state, std::string_view header, std::string_view value) const {
  auto credentials = decode_basic(value);
  if (!state.htpasswd || !credentials || !state.htpasswd->verify(credentials->first, credentials->second)) {
    return std::unexpected(Failure{false, "authentication failed"});
  }
  auto identity = std::make_shared<Identity>();
  identity->caller = {credentials->first, true};
  identity->credentials = true;
  state.cache->insert(header, identity, std::chrono::steady_clock::now());
  return identity;
}

Auth::Authenticated Auth::bearer(const AuthState& state, std::string_view header, std::string_view value) const {
  auto system_now = std::chrono::system_clock::now();
  auto claims = verify_token(value, state.trusts, m_config.token_service, system_now);
  if (!claims) {
    return std::unexpected(Failure{true, claims.error().message});
  }
  auto identity = std::make_shared<Identity>();
  identity->caller = {claims->subject, !claims->subject.empty()};
  identity->credentials = true;
  identity->token = true;
  identity->access = std::move(claims->access);
  auto now = std::chrono::steady_clock::now();
  auto left = std::chrono::duration_cast<std::chrono::steady_clock::duration>(claims->expires_at - system_now);
  state.cache->insert(header, identity, now, now + left);
  return identity;
}

// Who sent `request`: the Authorization header (from the cache when it was verified lately),
// else a TLS client certificate, else nobody.
Auth::Authenticated Auth::authenticate(const AuthState& state, const Request& request) const {
  auto header = request.header("Authorization");
  if (header.empty()) {
    if (request.tls_client_cn.empty()) {
      return anonymous();
    }
    auto identity = std::make_shared<Identity>();
    identity->caller = {request.tls_client_cn, true};
    identity->credentials = true;
    return identity;
  }
  if (auto cached = state.cache->find(header, std::chrono::steady_clock::now())) {
    return cached;
  }
  auto [scheme, value] = split_authorization(header);
  if (scheme == "basic") {
    if (empty_basic(value)) {
      return anonymous();
    }
    return basic(state, header, value);
  }
  if (scheme == "bearer" && !state.trusts.empty()) {
    return bearer(state, header, value);
  }
  return std::unexpected(Failure{false, "authorization scheme not accepted"});
}

std::optional<Response> Auth::check(Request& request, const Route& route) const {
  auto current = state();
  bool token_endpoint = route.kind == RouteKind::token && current->signing_key;
  Need need = need_of(route, request.method);
  if (need.kind == Need::Kind::open && !token_endpoint) {
    return std::nullopt;
  }
  auto identity = authenticate(*current, request);
  if (!identity) {
    count(AuthFailure::invalid_credentials);
    return unauthorized(*current, request, need, identity.error().message,
                        identity.error().bearer ? "invalid_token" : "", token_endpoint);
  }
  if (token_endpoint && (*identity)->token) {
    count(AuthFailure::invalid_credentials);
    return unauthorized(*current, request, need, "the token endpoint takes Basic credentials", "", true);
  }
  request.user = (*identity)->caller.user;
  request.permissions = std::make_shared<CallerPermissions>(current, *identity);
  switch (decide(current->rules, **identity, need)) {
    case Verdict::allow:
      return std::nullopt;
    case Verdict::unauthenticated:
      count(AuthFailure::unauthenticated);
      return unauthorized(*current, request, need, "authentication required", "", false);
    case Verdict::insufficient_scope:
      count(AuthFailure::insufficient_scope);
      return unauthorized(*current, request, need, "the token does not grant " + challenge_scope(need),
                          "insufficient_scope", false);
    case Verdict::denied:
      break;
  }
  count(AuthFailure::denied);
  return error_response(403, "DENIED", "requested access to the resource is denied");
}

std::optional<Identity> Auth::login(std::string_view user, std::string_view password) const {
  auto encoded = base64_encode(std::string(user) + ":" + std::string(password));
  Request request;
  request.headers.push_back({"Authorization", "Basic " + encoded});
  auto current = state();
  auto identity = authenticate(*current, request);
  if (!identity || (*identity)->token) {
    count(AuthFailure::invalid_credentials);
    return std::nullopt;
  }
  return **identity;
}

Result<IssuedToken> Auth::issue(const Identity& identity, const std::vector<Scope>& requested) const {
  auto current = state();
  if (!current->signing_key) {
    return fail(Errc::unsupported, "this registry issues no tokens (no --token-key)");
  }
  TokenClaims claims;
  claims.issuer = m_config.token_issuer;
  claims.subject = identity.caller.user;
  claims.audience = m_config.token_service;
  claims.issued_at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  claims.not_before = claims.issued_at;
  claims.expires_at = claims.issued_at + m_token_ttl;
  for (const Scope& scope : requested) {
    if (scope.type == "registry" && scope.name == "catalog" && current->rules.pulls_anywhere(identity.caller)) {
      claims.access.push_back(scope);
    } else if (scope.type == "repository" && validate_repository(scope.name)) {
      Actions granted = current->rules.allowed(identity.caller, scope.name) & scope.actions;
      if (granted != 0) {
        claims.access.push_back({scope.type, scope.name, granted});
      }
    }
  }
  auto token = sign_token(*current->signing_key, claims);
  if (!token) {
    return std::unexpected(token.error());
  }
  return IssuedToken{std::move(*token), m_token_ttl, claims.issued_at};
}

bool Auth::issues_tokens() const {
  return state()->signing_key.has_value();
}

}  // namespace regd::daemon
