// The Bearer token path: verify_token over arbitrary compact JWS text, over arbitrary header and
// claims JSON signed with a fixed test key (so the claim checks after the signature run too),
// scope parsing, PEM key parsing, and a sign/verify round trip. The first byte picks the mode.
// Invariants: a verified token comes from the trusted issuer, for the audience, unexpired; a
// scope's canonical form is a fixed point; what sign_token signs, verify_token returns.
#include <chrono>
#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "auth_token.h"
#include "fuzz_util.h"
#include "http_util.h"
#include "regd/base64.h"

using regd::fuzz::require;
namespace d = regd::daemon;

namespace {

constexpr std::string_view k_issuer = "fuzz-issuer";
constexpr std::string_view k_audience = "regd";
const auto k_now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));  // 2026-01-01

struct Keys {
  EVP_PKEY* rsa = nullptr;
  d::SigningKey signing;
  std::vector<d::TokenTrust> trusts;
};

std::string pem_of(EVP_PKEY* key, bool private_key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (private_key) {
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio.get(), key);
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return {data, static_cast<size_t>(size)};
}

const Keys& keys() {
  static const Keys k = [] {
    Keys out;
    out.rsa = EVP_RSA_gen(2048);
    EVP_PKEY* ec = EVP_EC_gen("P-256");
    auto signing = d::parse_signing_key(pem_of(ec, true));
    auto trusted = d::parse_trusted_keys(pem_of(out.rsa, false) + pem_of(ec, false));
    require(signing.has_value() && trusted.has_value(), "test keys parse");
    out.signing = *signing;
    out.trusts.push_back({std::string(k_issuer), *trusted});
    EVP_PKEY_free(ec);
    return out;
  }();
  return k;
}

std::string base64url(std::string_view data) {
  auto text = regd::base64_encode(data);
  while (!text.empty() && text.back() == '=') {
    text.pop_back();
  }
  for (char& c : text) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return text;
}

// A compact JWS of `header` and `claims`, RS256-signed with the trusted RSA key.
std::string rs256_token(std::string_view header, std::string_view claims) {
  auto input = base64url(header) + "." + base64url(claims);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t length = 0;
  std::string signature(512, '\0');
  length = signature.size();
  bool ok = EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, keys().rsa) == 1 &&
            EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  require(ok, "RS256 signing works");
  signature.resize(length);
  return input + "." + base64url(signature);
}

void check_verified(std::string_view token, std::string_view input) {
  auto claims = d::verify_token(token, keys().trusts, k_audience, k_now);
  if (!claims) {
    return;
  }
  require(claims->issuer == k_issuer, "a verified token has the trusted issuer", input);
  require(claims->expires_at + d::k_token_leeway >= k_now, "a verified token has not expired", input);
  for (const auto& scope : claims->access) {
    require(scope.actions <= d::k_all_actions, "access claims hold known actions", input);
  }
}

void check_scopes(std::string_view text) {
  auto scopes = d::parse_scopes({std::string(text)});
  for (const auto& scope : scopes) {
    auto canonical = d::format_scope(scope);
    auto again = d::parse_scope(canonical);
    require(again.has_value() && d::format_scope(*again) == canonical, "a scope's canonical form is a fixed point",
            canonical);
  }
}

void check_round_trip(std::string_view text) {
  auto rest = text;
  d::TokenClaims claims;
  claims.issuer = std::string(k_issuer);
  claims.audience = std::string(k_audience);
  claims.subject = std::string(regd::fuzz::take_until(rest, '\n'));
  claims.access = d::parse_scopes({std::string(rest)});
  claims.issued_at = k_now;
  claims.not_before = k_now;
  claims.expires_at = k_now + std::chrono::minutes(5);
  auto token = d::sign_token(keys().signing, claims);
  if (!token) {
    require(token.error().code == regd::Errc::invalid_argument, "sign_token fails only for unusable text", text);
    return;
  }
  std::vector<d::TokenTrust> own{{std::string(k_issuer), {keys().signing.public_key}}};
  auto verified = d::verify_token(*token, own, k_audience, k_now);
  require(verified.has_value(), "a signed token verifies", text);
  // Registry scopes are signed with actions "*" whatever was asked (only their presence counts):
  // compare canonical forms.
  auto canonical = [](const std::vector<d::Scope>& access) {
    std::vector<std::string> out;
    for (const auto& scope : access) {
      out.push_back(d::format_scope(scope));
    }
    return out;
  };
  require(verified->subject == claims.subject && canonical(verified->access) == canonical(claims.access),
          "claims round-trip", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  auto input = regd::fuzz::text_of(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      check_verified(input, input);
      break;
    case 1: {
      auto claims = input;
      auto header = regd::fuzz::take_until(claims, '\n');
      check_verified(rs256_token(header, claims), input);
      break;
    }
    case 2:
      check_scopes(input);
      break;
    case 3:
      (void)d::parse_trusted_keys(input);
      (void)d::parse_signing_key(input);
      break;
    default:
      check_round_trip(input);
      break;
  }
  return 0;
}
