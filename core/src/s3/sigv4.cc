#include "s3/sigv4.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

namespace regd::s3 {

namespace {

constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";

std::string to_hex(const unsigned char* data, size_t size) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += k_digits[data[i] >> 4];
    out += k_digits[data[i] & 0x0f];
  }
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out.data(), &size);
  return std::string(reinterpret_cast<const char*>(out.data()), size);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Leading and trailing blanks dropped, runs of blanks inside made one space.
std::string trim_value(std::string_view value) {
  std::string out;
  bool blank = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) {
      out += ' ';
      blank = false;
    }
    out += c;
  }
  return out;
}

std::string canonical_query(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [name, value] : query) {
    name = uri_encode(name, false);
    value = uri_encode(value, false);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) {
      out += '&';
    }
    out += name + "=" + value;
  }
  return out;
}

struct Canonical {
  std::string request;
  std::string signed_headers;
};

Canonical canonical_request(const SignedRequest& request,
                            const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(lower(name), trim_value(value));
  }
  std::sort(headers.begin(), headers.end());
  Canonical out;
  std::string header_lines;
  for (const auto& [name, value] : headers) {
    header_lines += name + ":" + value + "\n";
    out.signed_headers += (out.signed_headers.empty() ? "" : ";") + name;
  }
  out.request = request.method + "\n" + uri_encode(request.path.empty() ? "/" : request.path, true) + "\n" +
                canonical_query(query) + "\n" + header_lines + "\n" + out.signed_headers + "\n" + request.payload_hash;
  return out;
}

std::string date_of(std::string_view amz) {
  return std::string(amz.substr(0, 8));
}

std::string credential_scope(const Scope& scope, std::string_view date) {
  return std::string(date) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

std::string signature(const Credentials& credentials, const Scope& scope, std::string_view amz,
                      const std::string& canonical) {
  std::string date = date_of(amz);
  std::string to_sign = std::string(k_algorithm) + "\n" + std::string(amz) + "\n" + credential_scope(scope, date) +
                        "\n" + sha256_hex(canonical);
  std::string key = hmac("AWS4" + credentials.secret_key, date);
  key = hmac(key, scope.region);
  key = hmac(key, scope.service);
  key = hmac(key, "aws4_request");
  std::string mac = hmac(key, to_sign);
  return to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return to_hex(out.data(), out.size());
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char k_digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += k_digits[u >> 4];
      out += k_digits[u & 0x0f];
    }
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::array<char, 17> buf{};
  std::strftime(buf.data(), buf.size(), "%Y%m%dT%H%M%SZ", &tm);
  return buf.data();
}

std::string authorization(const SignedRequest& request, const Credentials& credentials, const Scope& scope,
                          std::chrono::system_clock::time_point time) {
  std::string amz = amz_date(time);
  auto canonical = canonical_request(request, request.query);
  return std::string(k_algorithm) + " Credential=" + credentials.access_key + "/" +
         credential_scope(scope, date_of(amz)) + ", SignedHeaders=" + canonical.signed_headers +
         ", Signature=" + signature(credentials, scope, amz, canonical.request);
}

std::string presigned_query(const SignedRequest& request, const Credentials& credentials, const Scope& scope,
                            std::chrono::system_clock::time_point time, std::chrono::seconds expires) {
  std::string amz = amz_date(time);
  auto query = request.query;
  query.emplace_back("X-Amz-Algorithm", std::string(k_algorithm));
  query.emplace_back("X-Amz-Credential", credentials.access_key + "/" + credential_scope(scope, date_of(amz)));
  query.emplace_back("X-Amz-Date", amz);
  query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (!credentials.session_token.empty()) {
    query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  query.emplace_back("X-Amz-SignedHeaders", "host");
  SignedRequest host_only = request;
  host_only.headers.clear();
  for (const auto& [name, value] : request.headers) {
    if (lower(name) == "host") {
      host_only.headers.emplace_back(name, value);
    }
  }
  host_only.payload_hash = "UNSIGNED-PAYLOAD";
  auto canonical = canonical_request(host_only, query);
  return canonical_query(query) + "&X-Amz-Signature=" + signature(credentials, scope, amz, canonical.request);
}

}  // namespace regd::s3
