// An OCI image layout directory (image-spec image-layout.md): `oci-layout`, `index.json` and
// `blobs/<alg>/<hex>`. What `regctl push` reads and `regctl pull` writes, and what skopeo's and
// umoci's `oci:` transports read and write.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "file_io.h"
#include "regd/error.h"
#include "regd/registry.h"

namespace regd::cli {

inline constexpr std::string_view k_ref_name_annotation = "org.opencontainers.image.ref.name";

// The descriptor fields regctl reads and writes (mediaType, digest, size, artifactType,
// annotations). Errors: manifest_invalid (missing or mistyped field), digest_invalid.
[[nodiscard]] Result<Descriptor> descriptor_from_json(const nlohmann::json& json);
nlohmann::json descriptor_to_json(const Descriptor& descriptor);

// The ref name annotation of an index.json entry, or "" when it has none.
std::string ref_name_of(const Descriptor& descriptor);

// Not thread-safe. Blob files are written atomically; index.json only by save().
class OciLayout {
 public:
  // Opens an existing layout. Errors: not_found (no oci-layout or index.json), manifest_invalid
  // (either file is malformed), io_error.
  [[nodiscard]] static Result<OciLayout> open(const std::filesystem::path& dir);
  // Opens `dir` when it holds a layout, else creates an empty one there: `dir` must then be
  // missing or an empty directory. Errors: as open(), exists (a non-empty directory that is no
  // layout, or a file), no_space, io_error.
  [[nodiscard]] static Result<OciLayout> open_or_create(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return m_dir; }
  // The entries of index.json, in file order.
  const std::vector<Descriptor>& entries() const { return m_entries; }

  // The entry whose ref name is `ref`. An empty `ref` means the only entry, else the one named
  // "latest". Errors: manifest_unknown (naming the refs present), invalid_argument (empty ref
  // and several entries, none "latest").
  [[nodiscard]] Result<Descriptor> resolve(std::string_view ref) const;

  std::filesystem::path blob_path(const Digest& digest) const;
  // True when the blob file exists with exactly `size` bytes.
  bool has_blob(const Digest& digest, uint64_t size) const;
  // A small blob (manifest, config), checked against the descriptor's digest and size.
  // Errors: not_found, too_large, corrupt (content differs from the descriptor), io_error.
  [[nodiscard]] Result<std::string> read_blob(const Descriptor& descriptor, size_t max_size) const;
  [[nodiscard]] Result<FileReader> open_blob(const Digest& digest) const;
  // Starts an atomic write of a blob file.
  [[nodiscard]] Result<FileWriter> create_blob(const Digest& digest) const;
  // Moves `file` (already known to hash to `digest`, on the same filesystem) into the blobs.
  [[nodiscard]] Status adopt_file(const std::filesystem::path& file, const Digest& digest) const;

  // Adds an entry to index.json (in memory), replacing any entry with the same ref name; an
  // unnamed entry replaces an unnamed entry of the same digest.
  void add_entry(const Descriptor& descriptor, std::optional<std::string> ref_name);
  // Writes index.json atomically.
  [[nodiscard]] Status save() const;

 private:
  OciLayout(std::filesystem::path dir, nlohmann::json index, std::vector<Descriptor> entries)
      : m_dir(std::move(dir)), m_index(std::move(index)), m_entries(std::move(entries)) {}

  std::filesystem::path m_dir;
  nlohmann::json m_index;  // the whole document: unknown fields survive a rewrite
  std::vector<Descriptor> m_entries;
};

}  // namespace regd::cli
