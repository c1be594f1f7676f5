#include "oci_layout.h"

#include <cerrno>
#include <system_error>

namespace regd::cli {
namespace {

constexpr size_t k_max_index_size = 16 * 1024 * 1024;

Result<std::vector<Descriptor>> parse_entries(const nlohmann::json& index) {
  std::vector<Descriptor> entries;
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    return fail(Errc::manifest_invalid, "index.json: no \"manifests\" array");
  }
  for (const auto& item : index["manifests"]) {
    auto descriptor = descriptor_from_json(item);
    if (!descriptor) {
      return fail(descriptor.error().code, "index.json: " + descriptor.error().message);
    }
    entries.push_back(std::move(*descriptor));
  }
  return entries;
}

}  // namespace

Result<Descriptor> descriptor_from_json(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("digest") || !json["digest"].is_string() || !json.contains("size") ||
      !json["size"].is_number_unsigned() || !json.contains("mediaType") || !json["mediaType"].is_string()) {
    return fail(Errc::manifest_invalid, "descriptor needs mediaType, digest and size");
  }
  auto digest = Digest::parse(json["digest"].get<std::string>());
  if (!digest) {
    return std::unexpected(digest.error());
  }
  Descriptor descriptor{.media_type = json["mediaType"].get<std::string>(),
                        .digest = *digest,
                        .size = json["size"].get<uint64_t>(),
                        .artifact_type = {},
                        .annotations = {}};
  if (json.contains("artifactType") && json["artifactType"].is_string()) {
    descriptor.artifact_type = json["artifactType"].get<std::string>();
  }
  if (json.contains("annotations") && json["annotations"].is_object()) {
    for (const auto& [key, value] : json["annotations"].items()) {
      if (value.is_string()) {
        descriptor.annotations[key] = value.get<std::string>();
      }
    }
  }
  return descriptor;
}

nlohmann::json descriptor_to_json(const Descriptor& descriptor) {
  nlohmann::json json = {
      {"mediaType", descriptor.media_type}, {"digest", descriptor.digest.str()}, {"size", descriptor.size}};
  if (!descriptor.artifact_type.empty()) {
    json["artifactType"] = descriptor.artifact_type;
  }
  if (!descriptor.annotations.empty()) {
    json["annotations"] = descriptor.annotations;
  }
  return json;
}

std::string ref_name_of(const Descriptor& descriptor) {
  auto it = descriptor.annotations.find(std::string(k_ref_name_annotation));
  return it == descriptor.annotations.end() ? std::string() : it->second;
}

Result<OciLayout> OciLayout::open(const std::filesystem::path& dir) {
  auto marker = read_small_file(dir / "oci-layout", 64 * 1024);
  if (!marker) {
    return fail(marker.error().code, dir.string() + " is not an OCI image layout: " + marker.error().message);
  }
  auto version = nlohmann::json::parse(*marker, nullptr, false);
  if (version.is_discarded() || !version.is_object() || !version.contains("imageLayoutVersion")) {
    return fail(Errc::manifest_invalid, (dir / "oci-layout").string() + ": no imageLayoutVersion");
  }
  auto text = read_small_file(dir / "index.json", k_max_index_size);
  if (!text) {
    return std::unexpected(text.error());
  }
  auto index = nlohmann::json::parse(*text, nullptr, false);
  if (index.is_discarded()) {
    return fail(Errc::manifest_invalid, (dir / "index.json").string() + ": not JSON");
  }
  auto entries = parse_entries(index);
  if (!entries) {
    return fail(entries.error().code, dir.string() + "/" + entries.error().message);
  }
  return OciLayout(dir, std::move(index), std::move(*entries));
}

Result<OciLayout> OciLayout::open_or_create(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir / "oci-layout", ec)) {
    return open(dir);
  }
  // As skopeo does: a directory with other content is somebody's data, not a layout to start.
  if (std::filesystem::is_directory(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    return fail(Errc::exists, dir.string() +
                                  " is not empty and not an OCI image layout (no oci-layout file); refusing to "
                                  "write into it: name an empty or new directory, or an existing layout");
  }
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
    return fail(Errc::exists, dir.string() + " exists and is not a directory");
  }
  std::filesystem::create_directories(dir / "blobs", ec);
  if (ec) {
    return std::unexpected(errno_error(ec.value(), dir.string()));
  }
  nlohmann::json index = {
      {"schemaVersion", 2}, {"mediaType", media_type::oci_index}, {"manifests", nlohmann::json::array()}};
  OciLayout layout(dir, std::move(index), {});
  if (auto ok = layout.save(); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = write_small_file(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"); !ok) {
    return std::unexpected(ok.error());
  }
  return layout;
}

Result<Descriptor> OciLayout::resolve(std::string_view ref) const {
  if (ref.empty() && m_entries.size() == 1) {
    return m_entries.front();
  }
  std::string wanted = ref.empty() ? std::string("latest") : std::string(ref);
  std::string names;
  for (const auto& entry : m_entries) {
    std::string name = ref_name_of(entry);
    if (name == wanted) {
      return entry;
    }
    names += (names.empty() ? "" : ", ") + (name.empty() ? entry.digest.str() : name);
  }
  if (ref.empty() && !m_entries.empty()) {
    return fail(Errc::invalid_argument,
                m_dir.string() + " holds several images and none is \"latest\"; name one of: " + names);
  }
  return fail(Errc::manifest_unknown, m_dir.string() + ": no image \"" + wanted + "\"" +
                                          (names.empty() ? " (the layout is empty)" : " (present: " + names + ")"));
}

std::filesystem::path OciLayout::blob_path(const Digest& digest) const {
  return m_dir / "blobs" / std::string(digest.algorithm_name()) / digest.hex();
}

bool OciLayout::has_blob(const Digest& digest, uint64_t size) const {
  std::error_code ec;
  auto found = std::filesystem::file_size(blob_path(digest), ec);
  return !ec && found == size;
}

Result<std::string> OciLayout::read_blob(const Descriptor& descriptor, size_t max_size) const {
  auto content = read_small_file(blob_path(descriptor.digest), max_size);
  if (!content) {
    return std::unexpected(content.error());
  }
  if (content->size() != descriptor.size || digest_of(*content, descriptor.digest.algorithm()) != descriptor.digest) {
    return fail(Errc::corrupt, blob_path(descriptor.digest).string() + ": content does not match " +
                                   descriptor.digest.str() + " (" + std::to_string(descriptor.size) + " bytes)");
  }
  return content;
}

Result<FileReader> OciLayout::open_blob(const Digest& digest) const {
  return FileReader::open(blob_path(digest));
}

Result<FileWriter> OciLayout::create_blob(const Digest& digest) const {
  return FileWriter::create(blob_path(digest));
}

Status OciLayout::adopt_file(const std::filesystem::path& file, const Digest& digest) const {
  std::error_code ec;
  auto target = blob_path(digest);
  std::filesystem::create_directories(target.parent_path(), ec);
  if (!ec) {
    std::filesystem::rename(file, target, ec);
  }
  if (ec) {
    return std::unexpected(errno_error(ec.value(), target.string()));
  }
  return {};
}

void OciLayout::add_entry(const Descriptor& descriptor, std::optional<std::string> ref_name) {
  Descriptor entry = descriptor;
  entry.annotations.erase(std::string(k_ref_name_annotation));
  if (ref_name) {
    entry.annotations[std::string(k_ref_name_annotation)] = *ref_name;
  }
  auto& json = m_index["manifests"];
  for (size_t i = m_entries.size(); i-- > 0;) {
    std::string name = ref_name_of(m_entries[i]);
    bool same = ref_name ? name == *ref_name : (name.empty() && m_entries[i].digest == entry.digest);
    if (same) {
      m_entries.erase(m_entries.begin() + static_cast<std::ptrdiff_t>(i));
      json.erase(i);
    }
  }
  m_entries.push_back(entry);
  json.push_back(descriptor_to_json(entry));
}

Status OciLayout::save() const {
  return write_small_file(m_dir / "index.json", m_index.dump());
}

}  // namespace regd::cli
