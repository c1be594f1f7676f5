// Content digests (OCI image-spec descriptor.md): "<algorithm>:<encoded>", sha256 and sha512.
// Hasher streams data and can export/import its state in the byte format registry:2 stores
// under _uploads/<id>/hashstates/ (Go's crypto/sha256 and sha512 MarshalBinary), so an upload
// started by one process is finished by another without re-reading the data.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "regd/error.h"

namespace regd {

enum class DigestAlgorithm { sha256, sha512 };

// "sha256" or "sha512".
std::string_view algorithm_name(DigestAlgorithm algorithm);

class Digest {
 public:
  // Parses "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>".
  // Errors: digest_invalid (not the spec grammar, wrong length or case for a registered
  // algorithm), unsupported (well-formed, unknown algorithm).
  [[nodiscard]] static Result<Digest> parse(std::string_view text);

  DigestAlgorithm algorithm() const { return m_algorithm; }
  std::string_view algorithm_name() const { return regd::algorithm_name(m_algorithm); }
  const std::string& hex() const { return m_hex; }
  std::string str() const { return std::string(algorithm_name()) + ":" + m_hex; }

  friend auto operator<=>(const Digest&, const Digest&) = default;
  friend bool operator==(const Digest&, const Digest&) = default;

 private:
  Digest(DigestAlgorithm algorithm, std::string hex) : m_algorithm(algorithm), m_hex(std::move(hex)) {}
  friend class Hasher;

  DigestAlgorithm m_algorithm = DigestAlgorithm::sha256;
  std::string m_hex;
};

// Streaming hash. Copyable (copies the state). Not thread-safe.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm = DigestAlgorithm::sha256);
  ~Hasher();
  Hasher(const Hasher& other);
  Hasher& operator=(const Hasher& other);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;

  void update(std::span<const char> data);
  void update(std::string_view data) { update(std::span<const char>(data.data(), data.size())); }

  DigestAlgorithm algorithm() const;
  // Bytes hashed so far.
  uint64_t size() const;
  // Digest of everything hashed so far; the hasher stays usable.
  Digest digest() const;

  // The state in Go's MarshalBinary format: 108 bytes for sha256 ("sha\x03", 8 big-endian
  // uint32 words, 64-byte block buffer zero-padded, big-endian uint64 length), 204 for sha512.
  std::string export_state() const;
  // Inverse of export_state. Errors: corrupt (wrong magic, length or size).
  [[nodiscard]] static Result<Hasher> import_state(DigestAlgorithm algorithm, std::string_view state);

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Digest of an in-memory byte string (manifests, link files, tests).
Digest digest_of(std::string_view data, DigestAlgorithm algorithm = DigestAlgorithm::sha256);

}  // namespace regd
