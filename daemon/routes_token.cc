// The token endpoint of the Docker registry token flow, served with --token-key:
// GET /v2/token?service=&scope=&account= (Basic credentials, a client certificate, or none for
// an anonymous token; the auth step of dispatch() checked them) and POST /v2/token with a form
// body grant_type=password&username=&password=&scope=&service= (checked here, by the same code).
// The token's access claims are the requested scopes the rules allow the caller.
#include <nlohmann/json.hpp>

#include "auth.h"
#include "error_table.h"
#include "http_util.h"
#include "routes.h"

namespace regd::daemon {
namespace {

constexpr uint64_t k_max_form = 64 * 1024;

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// application/x-www-form-urlencoded: '+' is a space there (it is not in query strings here).
std::string form_text(std::string_view body) {
  std::string out;
  for (char c : body) {
    out += c == '+' ? std::string_view("%20") : std::string_view(&c, 1);
  }
  return out;
}

Response token_response(const IssuedToken& token) {
  nlohmann::json body = {{"token", token.token},
                         {"access_token", token.token},
                         {"expires_in", token.expires_in.count()},
                         {"issued_at", rfc3339(token.issued_at)}};
  Response r;
  r.set("Content-Type", "application/json");
  r.set("Cache-Control", "no-store");
  r.body = body.dump() + "\n";
  return r;
}

// An OAuth2 error (RFC 6749 5.2) for the POST form.
Response oauth_error(unsigned status, std::string_view error, std::string_view description) {
  Response r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = nlohmann::json{{"error", error}, {"error_description", description}}.dump() + "\n";
  return r;
}

Response issue(const Auth& auth, const Identity& identity, std::string_view params) {
  auto service = query_value(params, "service");
  if (service && *service != auth.service()) {
    return error_response(400, "UNSUPPORTED", "unknown service '" + *service + "' (this is " + auth.service() + ")");
  }
  auto token = auth.issue(identity, parse_scopes(query_values(params, "scope")));
  if (!token) {
    return error_response(token.error(), Area::base);
  }
  return token_response(*token);
}

// Collects the POST form, then checks its password as Basic credentials are checked.
class TokenFormSink : public BodySink {
 public:
  explicit TokenFormSink(const Auth& auth) : m_auth(auth) {}
  Status write(std::span<const char> data) override {
    if (m_form.size() + data.size() > k_max_form) {
      return fail(Errc::too_large, "token request form over " + std::to_string(k_max_form) + " bytes");
    }
    m_form.append(data.data(), data.size());
    return {};
  }
  Response finish() override {
    auto form = form_text(m_form);
    if (query_value(form, "grant_type").value_or("") != "password") {
      return oauth_error(400, "unsupported_grant_type", "only grant_type=password is supported");
    }
    auto identity =
        m_auth.login(query_value(form, "username").value_or(""), query_value(form, "password").value_or(""));
    if (!identity) {
      return oauth_error(401, "invalid_grant", "authentication failed");
    }
    return issue(m_auth, *identity, form);
  }
  Response on_error(const Error& error) override { return error_response(error, Area::base); }

 private:
  const Auth& m_auth;
  std::string m_form;
};

}  // namespace

Outcome handle_token(Context& ctx, const Request& request, const Route&) {
  if (!ctx.state.auth || !ctx.state.auth->issues_tokens()) {
    return error_response(404, "NOT_FOUND", "no such endpoint: " + request.path);
  }
  if (request.method == Method::post) {
    return Outcome(std::make_unique<TokenFormSink>(*ctx.state.auth), k_max_form);
  }
  if (request.method != Method::get) {
    return method_not_allowed("GET, POST");
  }
  Identity identity;
  identity.caller = {request.user, !request.user.empty()};
  identity.credentials = !request.user.empty();
  return issue(*ctx.state.auth, identity, request.query);
}

}  // namespace regd::daemon
