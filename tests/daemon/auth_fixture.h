// Auth API tests: users (htpasswd -B), rules, regd's own key and an external issuer's key made in
// the test, three regd instances over one root, and helpers to send any request with any
// credential (Basic, a token regd issued, a token the external issuer minted with libjwt).
#pragma once

#include <cstdlib>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "auth_test_keys.h"
#include "regd/base64.h"
#include "regd_process.h"

namespace regd::testing {

constexpr const char* k_service = "regd-test";
constexpr const char* k_external_issuer = "ext-issuer";

// alice: everything under team/; bob: pulls team/; carol: pulls public/ (as anonymous does);
// robot (group ci): pulls and pushes ci/*; eve: pulls and pushes scratch/ only; dave: nothing;
// admin: everything everywhere (seeds the storage).
constexpr const char* k_rules = R"(# test rules
user:admin     **           *
user:alice     team/**      *
user:bob       team/**      pull
user:carol     public/**    pull
anonymous      public/**    pull
group:ci       ci/*         pull,push
user:eve       scratch/**   pull,push
group ci: robot
)";

// Writes DIR/htpasswd with `users` (htpasswd -B -b, the way an administrator makes the file,
// replacing an old one) and returns its path.
inline std::string htpasswd_file(const std::filesystem::path& dir,
                                 const std::vector<std::pair<std::string, std::string>>& users) {
  std::string path = (dir / "htpasswd").string();
  std::filesystem::remove(path);
  std::ofstream(path).close();
  for (const auto& [user, password] : users) {
    std::string command = "htpasswd -B -b " + path + " " + user + " " + password + " 2>/dev/null";
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }
  return path;
}

inline std::string basic_header(const std::string& user, const std::string& password) {
  return "Basic " + base64_encode(user + ":" + password);
}

// One request, whatever its method.
struct Call {
  std::string method;
  std::string path;  // with the query
  std::string body;
  std::string content_type = "application/octet-stream";
  httplib::Headers headers;
};

inline httplib::Result send(httplib::Client& c, const Call& call, const std::string& authorization = "") {
  auto headers = call.headers;
  if (!authorization.empty()) {
    headers.emplace("Authorization", authorization);
  }
  const char* path = call.path.c_str();
  if (call.method == "GET") {
    return c.Get(path, headers);
  }
  if (call.method == "HEAD") {
    return c.Head(path, headers);
  }
  if (call.method == "DELETE") {
    return c.Delete(path, headers);
  }
  if (call.method == "POST") {
    return c.Post(path, headers, call.body, call.content_type.c_str());
  }
  if (call.method == "PUT") {
    return c.Put(path, headers, call.body, call.content_type.c_str());
  }
  return c.Patch(path, headers, call.body, call.content_type.c_str());
}

// The value of parameter `name` in a WWW-Authenticate challenge, "" when absent.
inline std::string challenge_param(const std::string& challenge, const std::string& name) {
  auto at = challenge.find(name + "=\"");
  if (at == std::string::npos) {
    return "";
  }
  auto start = at + name.size() + 2;
  return challenge.substr(start, challenge.find('"', start) - start);
}

class AuthEnvironment {
 public:
  explicit AuthEnvironment(size_t instances = 3, const std::string& rules = k_rules) {
    write("rules", rules);
    make_htpasswd({{"alice", "alice-pw"},
                   {"bob", "bob-pw"},
                   {"carol", "carol-pw"},
                   {"dave", "dave-pw"},
                   {"robot", "robot-pw"},
                   {"eve", "eve-pw"},
                   {"admin", "admin-pw"}});
    write("token.pem", make_ec_key().private_pem);
    m_external = make_rsa_key();
    write("trust.pem", m_external.certificate);
    std::vector<std::string> flags = {"--htpasswd",           path("htpasswd"),  "--auth-rules",    path("rules"),
                                      "--token-key",          path("token.pem"), "--token-trust",   path("trust.pem"),
                                      "--token-trust-issuer", k_external_issuer, "--token-service", k_service};
    for (size_t i = 0; i < instances; ++i) {
      m_regd.push_back(std::make_unique<RegdProcess>(root(), flags));
    }
  }

  bool ready() const {
    return std::all_of(m_regd.begin(), m_regd.end(), [](const auto& r) { return r->ready(); });
  }
  RegdProcess& regd(size_t i) { return *m_regd.at(i); }
  httplib::Client client(size_t i) { return m_regd.at(i)->client(); }
  std::filesystem::path root() const { return m_tmp.path() / "root"; }
  std::string path(const char* name) const { return (m_tmp.path() / name).string(); }
  void write(const char* name, const std::string& text) const { std::ofstream(path(name)) << text; }

  // htpasswd -B -b, the way an administrator makes the file.
  void make_htpasswd(const std::vector<std::pair<std::string, std::string>>& users) const {
    htpasswd_file(m_tmp.path(), users);
  }

  // A token regd instance `i` issues for `scopes`, as a client gets it (GET /v2/token).
  std::string own_token(size_t i, const std::string& user, const std::vector<std::string>& scopes) {
    std::string path = std::string("/v2/token?service=") + k_service + "&account=" + user;
    for (const auto& scope : scopes) {
      path += "&scope=" + scope;
    }
    auto c = client(i);
    auto r = c.Get(path.c_str(), {{"Authorization", basic_header(user, user + "-pw")}});
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
    if (!r || r->status != 200) {
      return "";
    }
    auto body = nlohmann::json::parse(r->body);
    EXPECT_EQ(body["token"], body["access_token"]);
    return body["token"];
  }

  // A token the external issuer signs with libjwt: `access` as given, the rules still apply.
  std::string external_token(const std::string& user, const nlohmann::json& access, int64_t expires_in = 300) const {
    return libjwt_token(token_claims(k_external_issuer, k_service, user, access, expires_in), m_external.private_pem,
                        "RS256");
  }

  const TestKey& external_key() const { return m_external; }

 private:
  TempDir m_tmp;
  TestKey m_external;
  std::vector<std::unique_ptr<RegdProcess>> m_regd;
};

// Monolithic push with credentials; returns the digest.
inline std::string push_blob_as(httplib::Client& c, const std::string& repo, const std::string& data,
                                const std::string& authorization) {
  auto digest = sha256_of(data);
  auto r = c.Post(("/v2/" + repo + "/blobs/uploads/?digest=" + digest).c_str(), {{"Authorization", authorization}},
                  data, "application/octet-stream");
  EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no response");
  return digest;
}

// Pushes an image to `repo` as admin (Basic, on a connection of its own); returns the manifest.
inline std::string seed_image(const RegdProcess& regd, const std::string& repo, const std::string& tag, unsigned seed,
                              const nlohmann::json& extra = nlohmann::json::object()) {
  auto c = regd.client();
  c.set_default_headers({{"Authorization", basic_header("admin", "admin-pw")}});
  return push_image(c, repo, tag, seed, extra);
}

}  // namespace regd::testing
