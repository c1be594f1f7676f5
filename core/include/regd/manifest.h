// Parsing and validation of OCI image manifests and indexes and Docker schema2 manifests and
// manifest lists. Pure functions over bytes: no storage access.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "regd/error.h"
#include "regd/registry.h"

namespace regd {

enum class ManifestKind { image, index };

struct ParsedManifest {
  ManifestKind kind = ManifestKind::image;
  std::string media_type;             // effective media type
  std::optional<Descriptor> config;   // images only
  std::vector<Descriptor> layers;     // images only
  std::vector<Descriptor> manifests;  // indexes only
  std::optional<Descriptor> subject;
  std::string artifact_type;  // the artifactType field; empty when absent
  std::map<std::string, std::string> annotations;
};

// Deepest nesting of JSON arrays and objects a manifest may have; a real one needs about 4.
inline constexpr size_t k_max_manifest_depth = 64;

// True when `content` nests arrays and objects more than `limit` deep (a linear scan that
// builds nothing; strings are skipped). Malformed JSON is not detected here.
bool json_deeper_than(std::string_view content, size_t limit);

// True for the four manifest media types regd stores.
bool is_manifest_media_type(std::string_view media_type);

// Parses and validates `content`. `content_type` (may be empty) must agree with the document's
// mediaType field when both are present. Content nested deeper than k_max_manifest_depth is
// refused before it is parsed. Errors: manifest_invalid (with the reason),
// unsupported (unknown media type), digest_invalid (a descriptor's digest is malformed).
[[nodiscard]] Result<ParsedManifest> parse_manifest(std::string_view content_type, std::string_view content);

// The artifact type of a manifest by the image-spec's "Guidelines for Artifact Usage": its
// artifactType; else, for an artifact packaged the older way (a config of its own media type),
// that media type. Empty for an image: an image config media type (OCI or Docker) is no artifact
// type. Empty for an index without artifactType.
std::string artifact_type_of(const ParsedManifest& parsed);

// What the referrers API reports as a manifest's artifactType (distribution-spec): its
// artifactType, else its config's media type, whatever that is.
std::string referrer_artifact_type(const ParsedManifest& parsed);

// True for layers that need not be present in the registry (foreign / non-distributable).
bool is_foreign_layer(const Descriptor& layer);

}  // namespace regd
