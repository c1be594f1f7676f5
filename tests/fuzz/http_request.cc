// The HTTP request path without sockets: raw bytes through Beast's request parser (as the
// session reads a header), then what dispatch() does before a handler touches storage: the
// conversion to a Request, route matching, and the authentication and authorization step with
// Basic credentials (htpasswd), Bearer tokens (regd's own key) and access rules; then the
// validations and header parsers the handlers start with. Invariants: a request without
// credentials is refused wherever the rules give anonymous nothing; refusals are 401 or 403;
// matched names and references are what the path says.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include <boost/beast/http.hpp>
#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth.h"
#include "auth_policy.h"
#include "fuzz_util.h"
#include "http_convert.h"
#include "http_util.h"
#include "regd/reference.h"
#include "router.h"

using regd::fuzz::require;
namespace d = regd::daemon;
namespace http = boost::beast::http;

namespace {

// alice's password is "secret" (Basic YWxpY2U6c2VjcmV0); bcrypt cost 4 keeps the fuzzer fast.
constexpr std::string_view k_rules =
    "group admins: alice\n"
    "group:admins   team/**    *\n"
    "anonymous      public/**  pull\n"
    "authenticated  **         pull\n";

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  auto path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string bcrypt(const char* password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  require(crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt) != nullptr, "bcrypt salt");
  crypt_data data{};
  return crypt_r(password, salt, &data);
}

std::string private_key_pem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  EVP_PKEY_free(key);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(size)};
}

const d::Auth& auth() {
  static const std::shared_ptr<d::Auth> a = [] {
    char dir[] = "/tmp/regd-fuzz-XXXXXX";
    require(mkdtemp(dir) != nullptr, "temp dir");
    d::AuthConfig config;
    config.htpasswd = write_file(dir, "htpasswd", "alice:" + bcrypt("secret") + "\nbob:" + bcrypt("hunter2") + "\n");
    config.auth_rules = write_file(dir, "rules", std::string(k_rules));
    config.token_key = write_file(dir, "token.pem", private_key_pem());
    require(d::validate_auth_config(config).has_value(), "auth config is valid");
    auto created = d::Auth::create(config);
    require(created.has_value(), "auth loads its files");
    std::filesystem::remove_all(dir);  // read once; only a reload (never here) reads them again
    return *created;
  }();
  return *a;
}

void check_route(const d::Route& route, std::string_view path) {
  if (route.kind == d::RouteKind::not_found || route.name.empty()) {
    return;
  }
  require(path.starts_with("/v2/" + route.name + "/"), "the name is the path's", path);
  if (regd::validate_repository(route.name)) {
    (void)regd::Reference::parse(route.name + "@" + route.ref);
    (void)regd::Reference::parse(route.name + ":" + route.ref);
  }
}

void check_auth(d::Request& request, const d::Route& route, std::string_view input) {
  auto need = d::need_of(route, request.method);
  (void)d::challenge_scope(need);
  (void)d::default_realm(request);
  auto refused = auth().check(request, route);
  if (refused) {
    require(refused->status == 401 || refused->status == 403, "refusals are 401 or 403", input);
    return;
  }
  bool anonymous = request.header("Authorization").empty();
  if (anonymous && need.kind == d::Need::Kind::repository) {
    require(d::glob_match("public/**", need.repository) && need.actions == d::k_pull,
            "anonymous callers only pull from public/**", input);
  }
  require(!anonymous || need.kind != d::Need::Kind::authenticated, "metrics need a user", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = regd::fuzz::text_of(data, size);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(std::numeric_limits<uint64_t>::max());
  boost::beast::error_code ec;
  size_t used = parser.put(boost::asio::buffer(data, size), ec);
  require(used <= size, "the parser reads what it was given", input);
  if (ec || !parser.is_header_done()) {
    return 0;
  }
  d::Request request = d::to_request(parser);
  request.remote_address = "127.0.0.1";
  auto route = d::match_route(request.path);
  check_route(route, request.path);
  check_auth(request, route, input);
  for (const auto& header : {"Range", "Content-Range", "If-None-Match"}) {
    auto value = request.header(header);
    (void)d::parse_range(value, 1 << 20);
    (void)d::parse_content_range(value);
    (void)d::etag_matches(value, "\"sha256:0\"");
  }
  for (const auto& name : {"n", "last", "digest", "mount", "from", "tag", "artifactType", "scope"}) {
    (void)d::query_values(request.query, name);
  }
  return 0;
}
