#include "regd/digest.h"

#include <array>
#include <cstring>

#include <openssl/sha.h>

namespace regd {

namespace {

constexpr std::string_view k_sha256_magic{"sha\x03", 4};
constexpr std::string_view k_sha512_magic{"sha\x07", 4};
constexpr size_t k_sha256_state_size = 4 + 8 * 4 + SHA256_CBLOCK + 8;  // 108
constexpr size_t k_sha512_state_size = 4 + 8 * 8 + SHA512_CBLOCK + 8;  // 204

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_lower_hex(char c) {
  return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9');
}

bool is_encoded_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '=' || c == '_' || c == '-';
}

// [a-z0-9]+([+._-][a-z0-9]+)*
bool valid_algorithm_grammar(std::string_view algorithm) {
  bool need_alnum = true;
  for (char c : algorithm) {
    if (is_lower_alnum(c)) {
      need_alnum = false;
    } else if (!need_alnum && (c == '+' || c == '.' || c == '_' || c == '-')) {
      need_alnum = true;
    } else {
      return false;
    }
  }
  return !need_alnum;
}

bool valid_encoded_grammar(std::string_view encoded) {
  if (encoded.empty()) {
    return false;
  }
  for (char c : encoded) {
    if (!is_encoded_char(c)) {
      return false;
    }
  }
  return true;
}

std::string to_hex(const unsigned char* bytes, size_t size) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = k_digits[bytes[i] >> 4];
    out[2 * i + 1] = k_digits[bytes[i] & 0x0f];
  }
  return out;
}

void put_be(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

uint64_t get_be(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value = (value << 8) | static_cast<unsigned char>(in[offset + i]);
  }
  return value;
}

}  // namespace

std::string_view algorithm_name(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::sha512 ? "sha512" : "sha256";
}

Result<Digest> Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fail(Errc::digest_invalid, "digest \"" + std::string(text) + "\": missing ':'");
  }
  auto algorithm = text.substr(0, colon);
  auto encoded = text.substr(colon + 1);
  if (!valid_algorithm_grammar(algorithm) || !valid_encoded_grammar(encoded)) {
    return fail(Errc::digest_invalid, "digest \"" + std::string(text) + "\": malformed");
  }
  DigestAlgorithm parsed;
  size_t hex_size;
  if (algorithm == "sha256") {
    parsed = DigestAlgorithm::sha256;
    hex_size = 64;
  } else if (algorithm == "sha512") {
    parsed = DigestAlgorithm::sha512;
    hex_size = 128;
  } else {
    return fail(Errc::unsupported, "digest algorithm \"" + std::string(algorithm) + "\" is not supported");
  }
  if (encoded.size() != hex_size) {
    return fail(Errc::digest_invalid, "digest \"" + std::string(text) + "\": " + std::string(algorithm) + " needs " +
                                          std::to_string(hex_size) + " hex characters");
  }
  for (char c : encoded) {
    if (!is_lower_hex(c)) {
      return fail(Errc::digest_invalid, "digest \"" + std::string(text) + "\": not lowercase hex");
    }
  }
  return Digest(parsed, std::string(encoded));
}

// Both contexts are kept so the Impl stays trivially copyable; only the one matching
// `algorithm` is used.
struct Hasher::Impl {
  DigestAlgorithm algorithm = DigestAlgorithm::sha256;
  SHA256_CTX sha256{};
  SHA512_CTX sha512{};
};

Hasher::Hasher(DigestAlgorithm algorithm) : m_impl(std::make_unique<Impl>()) {
  m_impl->algorithm = algorithm;
  if (algorithm == DigestAlgorithm::sha512) {
    SHA512_Init(&m_impl->sha512);
  } else {
    SHA256_Init(&m_impl->sha256);
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(const Hasher& other) : m_impl(std::make_unique<Impl>(*other.m_impl)) {}
Hasher& Hasher::operator=(const Hasher& other) {
  if (this != &other) {
    m_impl = std::make_unique<Impl>(*other.m_impl);
  }
  return *this;
}
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::span<const char> data) {
  if (m_impl->algorithm == DigestAlgorithm::sha512) {
    SHA512_Update(&m_impl->sha512, data.data(), data.size());
  } else {
    SHA256_Update(&m_impl->sha256, data.data(), data.size());
  }
}

DigestAlgorithm Hasher::algorithm() const {
  return m_impl->algorithm;
}

// OpenSSL keeps the message length in bits, split over Nl (low) and Nh (high).
uint64_t Hasher::size() const {
  if (m_impl->algorithm == DigestAlgorithm::sha512) {
    return (m_impl->sha512.Nl >> 3) | (m_impl->sha512.Nh << 61);
  }
  uint64_t bits = (static_cast<uint64_t>(m_impl->sha256.Nh) << 32) | m_impl->sha256.Nl;
  return bits >> 3;
}

Digest Hasher::digest() const {
  if (m_impl->algorithm == DigestAlgorithm::sha512) {
    SHA512_CTX copy = m_impl->sha512;
    std::array<unsigned char, SHA512_DIGEST_LENGTH> md{};
    SHA512_Final(md.data(), &copy);
    return Digest(DigestAlgorithm::sha512, to_hex(md.data(), md.size()));
  }
  SHA256_CTX copy = m_impl->sha256;
  std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
  SHA256_Final(md.data(), &copy);
  return Digest(DigestAlgorithm::sha256, to_hex(md.data(), md.size()));
}

std::string Hasher::export_state() const {
  std::string out;
  uint64_t length = size();
  if (m_impl->algorithm == DigestAlgorithm::sha512) {
    const auto& ctx = m_impl->sha512;
    out.reserve(k_sha512_state_size);
    out.append(k_sha512_magic);
    for (auto word : ctx.h) {
      put_be(out, word, 8);
    }
    out.append(reinterpret_cast<const char*>(ctx.u.p), ctx.num);
    out.append(SHA512_CBLOCK - ctx.num, '\0');
    put_be(out, length, 8);
    return out;
  }
  const auto& ctx = m_impl->sha256;
  out.reserve(k_sha256_state_size);
  out.append(k_sha256_magic);
  for (auto word : ctx.h) {
    put_be(out, word, 4);
  }
  // md32_common keeps the pending block as raw bytes in `data`.
  out.append(reinterpret_cast<const char*>(ctx.data), ctx.num);
  out.append(SHA256_CBLOCK - ctx.num, '\0');
  put_be(out, length, 8);
  return out;
}

Result<Hasher> Hasher::import_state(DigestAlgorithm algorithm, std::string_view state) {
  bool is512 = algorithm == DigestAlgorithm::sha512;
  auto magic = is512 ? k_sha512_magic : k_sha256_magic;
  size_t expected = is512 ? k_sha512_state_size : k_sha256_state_size;
  if (state.size() != expected || state.substr(0, 4) != magic) {
    return fail(Errc::corrupt, std::string(algorithm_name(algorithm)) + " hash state: wrong magic or length (" +
                                   std::to_string(state.size()) + " bytes)");
  }
  Hasher hasher(algorithm);
  size_t word_size = is512 ? 8 : 4;
  size_t block = is512 ? SHA512_CBLOCK : SHA256_CBLOCK;
  size_t buffer_offset = 4 + 8 * word_size;
  uint64_t length = get_be(state, buffer_offset + block, 8);
  auto buffered = static_cast<unsigned int>(length % block);
  if (is512) {
    auto& ctx = hasher.m_impl->sha512;
    for (size_t i = 0; i < 8; ++i) {
      ctx.h[i] = get_be(state, 4 + i * 8, 8);
    }
    std::memcpy(ctx.u.p, state.data() + buffer_offset, buffered);
    ctx.num = buffered;
    ctx.Nl = length << 3;
    ctx.Nh = length >> 61;
    return hasher;
  }
  auto& ctx = hasher.m_impl->sha256;
  for (size_t i = 0; i < 8; ++i) {
    ctx.h[i] = static_cast<SHA_LONG>(get_be(state, 4 + i * 4, 4));
  }
  std::memcpy(ctx.data, state.data() + buffer_offset, buffered);
  ctx.num = buffered;
  ctx.Nl = static_cast<SHA_LONG>(length << 3);
  ctx.Nh = static_cast<SHA_LONG>(length >> 29);
  return hasher;
}

Digest digest_of(std::string_view data, DigestAlgorithm algorithm) {
  Hasher hasher(algorithm);
  hasher.update(data);
  return hasher.digest();
}

}  // namespace regd
