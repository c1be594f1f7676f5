#include "regd/manifest.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace regd {

namespace {

using Json = nlohmann::json;

constexpr std::string_view k_docker_foreign_layer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
constexpr std::string_view k_oci_config = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view k_docker_config = "application/vnd.docker.container.image.v1+json";

std::unexpected<Error> invalid(std::string message) {
  return fail(Errc::manifest_invalid, std::move(message));
}

// "Application/X; charset=utf-8" -> "application/x".
std::string normalize_content_type(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  auto type = content_type.substr(0, semicolon);
  auto first = type.find_first_not_of(" \t");
  auto last = type.find_last_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  std::string out(type.substr(first, last - first + 1));
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The string at `key`, or nullopt when absent; a non-string value is manifest_invalid.
Result<std::optional<std::string>> optional_string(const Json& object, const char* key, std::string_view where) {
  auto it = object.find(key);
  if (it == object.end()) {
    return std::nullopt;
  }
  if (!it->is_string()) {
    return invalid(std::string(where) + ": \"" + key + "\" must be a string");
  }
  return it->get<std::string>();
}

Result<std::map<std::string, std::string>> parse_annotations(const Json& object, std::string_view where) {
  std::map<std::string, std::string> out;
  auto it = object.find("annotations");
  if (it == object.end() || it->is_null()) {
    return out;
  }
  if (!it->is_object()) {
    return invalid(std::string(where) + ": \"annotations\" must be an object");
  }
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      return invalid(std::string(where) + ": annotation \"" + key + "\" must be a string");
    }
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

Result<uint64_t> parse_size(const Json& object, std::string_view where) {
  auto it = object.find("size");
  if (it == object.end()) {
    return invalid(std::string(where) + ": \"size\" is required");
  }
  if (!it->is_number_unsigned()) {
    return invalid(std::string(where) + ": \"size\" must be a non-negative integer");
  }
  return it->get<uint64_t>();
}

Result<Descriptor> parse_descriptor(const Json& json, std::string_view where) {
  if (!json.is_object()) {
    return invalid(std::string(where) + ": descriptor must be an object");
  }
  auto media_type = optional_string(json, "mediaType", where);
  if (!media_type) {
    return std::unexpected(media_type.error());
  }
  if (!*media_type || (*media_type)->empty()) {
    return invalid(std::string(where) + ": \"mediaType\" is required");
  }
  auto digest_text = optional_string(json, "digest", where);
  if (!digest_text) {
    return std::unexpected(digest_text.error());
  }
  if (!*digest_text) {
    return invalid(std::string(where) + ": \"digest\" is required");
  }
  auto digest = Digest::parse(**digest_text);
  if (!digest) {
    return fail(Errc::digest_invalid, std::string(where) + ": " + digest.error().message);
  }
  auto size = parse_size(json, where);
  if (!size) {
    return std::unexpected(size.error());
  }
  auto artifact_type = optional_string(json, "artifactType", where);
  if (!artifact_type) {
    return std::unexpected(artifact_type.error());
  }
  auto annotations = parse_annotations(json, where);
  if (!annotations) {
    return std::unexpected(annotations.error());
  }
  return Descriptor{std::move(**media_type), std::move(*digest), *size, artifact_type->value_or(""),
                    std::move(*annotations)};
}

Result<std::vector<Descriptor>> parse_descriptors(const Json& doc, const char* key, bool required) {
  std::vector<Descriptor> out;
  auto it = doc.find(key);
  if (it == doc.end() || (!required && it->is_null())) {
    if (required) {
      return invalid(std::string("manifest: \"") + key + "\" is required");
    }
    return out;
  }
  if (!it->is_array()) {
    return invalid(std::string("manifest: \"") + key + "\" must be an array");
  }
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    auto descriptor = parse_descriptor((*it)[i], std::string(key) + "[" + std::to_string(i) + "]");
    if (!descriptor) {
      return std::unexpected(descriptor.error());
    }
    out.push_back(std::move(*descriptor));
  }
  return out;
}

// The media type of the document: a manifest Content-Type wins and must agree with the body;
// a generic Content-Type (clients send application/json or octet-stream) defers to the body.
Result<std::string> effective_media_type(std::string_view content_type, const Json& doc) {
  auto declared = optional_string(doc, "mediaType", "manifest");
  if (!declared) {
    return std::unexpected(declared.error());
  }
  auto header = normalize_content_type(content_type);
  if (is_manifest_media_type(header)) {
    if (*declared && **declared != header) {
      return invalid("manifest: mediaType \"" + **declared + "\" differs from Content-Type \"" + header + "\"");
    }
    return header;
  }
  std::string type;
  if (*declared) {
    type = **declared;
  } else if (doc.contains("manifests")) {
    type = media_type::oci_index;
  } else if (doc.contains("config") && doc.contains("layers")) {
    type = media_type::oci_manifest;
  }
  if (!is_manifest_media_type(type)) {
    return invalid("manifest: unsupported media type \"" + (type.empty() ? header : type) + "\"");
  }
  return type;
}

Status parse_common(const Json& doc, ParsedManifest& out) {
  if (auto subject = doc.find("subject"); subject != doc.end() && !subject->is_null()) {
    auto parsed = parse_descriptor(*subject, "subject");
    if (!parsed) {
      return std::unexpected(parsed.error());
    }
    out.subject = std::move(*parsed);
  }
  auto artifact_type = optional_string(doc, "artifactType", "manifest");
  if (!artifact_type) {
    return std::unexpected(artifact_type.error());
  }
  out.artifact_type = artifact_type->value_or("");
  auto annotations = parse_annotations(doc, "manifest");
  if (!annotations) {
    return std::unexpected(annotations.error());
  }
  out.annotations = std::move(*annotations);
  return {};
}

Status parse_image(const Json& doc, ParsedManifest& out) {
  auto config = doc.find("config");
  if (config == doc.end()) {
    return invalid("manifest: \"config\" is required");
  }
  auto parsed_config = parse_descriptor(*config, "config");
  if (!parsed_config) {
    return std::unexpected(parsed_config.error());
  }
  out.config = std::move(*parsed_config);
  auto layers = parse_descriptors(doc, "layers", false);
  if (!layers) {
    return std::unexpected(layers.error());
  }
  out.layers = std::move(*layers);
  if (doc.contains("manifests")) {
    return invalid("manifest: an image manifest has no \"manifests\"");
  }
  return {};
}

Status parse_index(const Json& doc, ParsedManifest& out) {
  auto manifests = parse_descriptors(doc, "manifests", true);
  if (!manifests) {
    return std::unexpected(manifests.error());
  }
  out.manifests = std::move(*manifests);
  if (doc.contains("config") || doc.contains("layers")) {
    return invalid("manifest: an index has no \"config\" or \"layers\"");
  }
  return {};
}

}  // namespace

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == media_type::oci_manifest || media_type == media_type::oci_index ||
         media_type == media_type::docker_manifest || media_type == media_type::docker_list;
}

// One pass over the bytes, no recursion and no allocation: only '[' and '{' outside strings
// count. Malformed JSON passes here and fails in the parser.
bool json_deeper_than(std::string_view content, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : content) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) {
        return true;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

Result<ParsedManifest> parse_manifest(std::string_view content_type, std::string_view content) {
  // Before any DOM is built: two million nested arrays parse into ~100 MB and a second of CPU.
  if (json_deeper_than(content, k_max_manifest_depth)) {
    return invalid("manifest: JSON nested deeper than " + std::to_string(k_max_manifest_depth) + " levels");
  }
  auto doc = Json::parse(content, nullptr, false);
  if (doc.is_discarded()) {
    return invalid("manifest: not valid JSON");
  }
  if (!doc.is_object()) {
    return invalid("manifest: not a JSON object");
  }
  auto schema = doc.find("schemaVersion");
  if (schema == doc.end() || !schema->is_number_integer() || schema->get<int64_t>() != 2) {
    return invalid("manifest: \"schemaVersion\" must be 2");
  }
  auto type = effective_media_type(content_type, doc);
  if (!type) {
    return std::unexpected(type.error());
  }
  // Docker's schema2 formats require their mediaType in the body (distribution checks it too).
  bool docker = *type == media_type::docker_manifest || *type == media_type::docker_list;
  if (docker && doc.value("mediaType", "") != *type) {
    return invalid("manifest: Docker " + *type + " requires a matching \"mediaType\" field");
  }
  ParsedManifest out;
  out.media_type = *type;
  bool index = *type == media_type::oci_index || *type == media_type::docker_list;
  out.kind = index ? ManifestKind::index : ManifestKind::image;
  if (auto parsed = index ? parse_index(doc, out) : parse_image(doc, out); !parsed) {
    return std::unexpected(parsed.error());
  }
  if (auto common = parse_common(doc, out); !common) {
    return std::unexpected(common.error());
  }
  return out;
}

std::string artifact_type_of(const ParsedManifest& parsed) {
  if (!parsed.artifact_type.empty() || !parsed.config) {
    return parsed.artifact_type;
  }
  const std::string& config = parsed.config->media_type;
  bool image = config == k_oci_config || config == k_docker_config || config == media_type::oci_empty;
  return image ? std::string() : config;
}

std::string referrer_artifact_type(const ParsedManifest& parsed) {
  if (!parsed.artifact_type.empty() || !parsed.config) {
    return parsed.artifact_type;
  }
  return parsed.config->media_type;
}

bool is_foreign_layer(const Descriptor& layer) {
  return layer.media_type == k_docker_foreign_layer || layer.media_type.find(".nondistributable.") != std::string::npos;
}

}  // namespace regd
