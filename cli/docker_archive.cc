#include "docker_archive.h"

#include <map>
#include <vector>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "file_io.h"

namespace regd::cli {
namespace {

constexpr size_t k_max_json = 64 * 1024 * 1024;

// `name` from manifest.json, resolved inside `root` (symlinks included) or refused.
Result<std::filesystem::path> inside(const std::filesystem::path& root, const nlohmann::json& name) {
  if (!name.is_string()) {
    return fail(Errc::manifest_invalid, "manifest.json: a file name is not a string");
  }
  std::error_code ec;
  auto base = std::filesystem::canonical(root, ec);
  auto path = std::filesystem::canonical(root / name.get<std::string>(), ec);
  if (ec) {
    return fail(Errc::not_found, "docker-archive: missing file " + name.get<std::string>());
  }
  auto rel = path.lexically_relative(base);
  if (rel.empty() || rel.begin()->string() == "..") {
    return fail(Errc::invalid_argument, "docker-archive: " + name.get<std::string>() + " points outside the archive");
  }
  return path;
}

Result<bool> is_gzip(const std::filesystem::path& file) {
  auto reader = FileReader::open(file);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  char magic[2] = {0, 0};
  auto n = reader->read(std::span<char>(magic, 2));
  if (!n) {
    return std::unexpected(n.error());
  }
  return *n == 2 && static_cast<unsigned char>(magic[0]) == 0x1f && static_cast<unsigned char>(magic[1]) == 0x8b;
}

Result<nlohmann::json> choose_image(const nlohmann::json& list, std::string_view ref, std::string& tag) {
  if (!list.is_array() || list.empty()) {
    return fail(Errc::manifest_invalid, "docker-archive: manifest.json lists no image");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& item = list[i];
    std::vector<std::string> repo_tags;
    if (item.is_object() && item.contains("RepoTags") && item["RepoTags"].is_array()) {
      for (const auto& t : item["RepoTags"]) {
        if (t.is_string()) {
          repo_tags.push_back(t.get<std::string>());
        }
      }
    }
    bool match = ref.empty() ? list.size() == 1 : ref == "@" + std::to_string(i);
    for (const auto& repo_tag : repo_tags) {
      match = match || repo_tag == ref;
    }
    if (!match) {
      continue;
    }
    std::string chosen(ref);
    if (ref.empty() || ref.starts_with("@")) {
      chosen = repo_tags.empty() ? std::string() : repo_tags.front();
    }
    auto colon = chosen.rfind(':');
    tag = colon == std::string::npos || chosen.find('/', colon) != std::string::npos ? "" : chosen.substr(colon + 1);
    return item;
  }
  return fail(Errc::manifest_unknown, ref.empty()
                                          ? "docker-archive holds several images: name one as FILE:NAME:TAG or FILE:@N"
                                          : "docker-archive: no image \"" + std::string(ref) + "\"");
}

Result<Descriptor> add_layer(const std::filesystem::path& file, const std::filesystem::path& scratch,
                             const OciLayout& layout) {
  auto gzipped = is_gzip(file);
  if (!gzipped) {
    return std::unexpected(gzipped.error());
  }
  std::filesystem::path blob = file;
  Result<BlobInfo> info = *gzipped ? hash_file(file, DigestAlgorithm::sha256) : gzip_file(file, scratch);
  if (!info) {
    return std::unexpected(info.error());
  }
  if (!*gzipped) {
    blob = scratch;
  }
  if (auto ok = layout.adopt_file(blob, info->digest); !ok) {
    return std::unexpected(ok.error());
  }
  return Descriptor{.media_type = std::string(k_docker_layer_gzip),
                    .digest = info->digest,
                    .size = info->size,
                    .artifact_type = {},
                    .annotations = {}};
}

}  // namespace

Result<BlobInfo> gzip_file(const std::filesystem::path& from, const std::filesystem::path& to) {
  auto reader = FileReader::open(from);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  auto writer = FileWriter::create(to);
  if (!writer) {
    return std::unexpected(writer.error());
  }
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return fail(Errc::io_error, "zlib: deflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, deflateEnd);
  std::vector<char> in(k_copy_buffer);
  std::vector<char> out(k_copy_buffer);
  Hasher hasher;
  int flush = Z_NO_FLUSH;
  while (flush != Z_FINISH) {
    auto n = reader->read(in);
    if (!n) {
      return std::unexpected(n.error());
    }
    flush = *n == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(*n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      deflate(&z, flush);
      std::span<const char> chunk(out.data(), out.size() - z.avail_out);
      hasher.update(chunk);
      if (auto ok = writer->write(chunk); !ok) {
        return std::unexpected(ok.error());
      }
    } while (z.avail_out == 0);
  }
  if (auto ok = writer->commit(); !ok) {
    return std::unexpected(ok.error());
  }
  return BlobInfo{hasher.digest(), hasher.size()};
}

Result<DockerImage> convert_docker_archive(const std::filesystem::path& extracted, std::string_view ref,
                                           const OciLayout& layout) {
  auto text = read_small_file(extracted / "manifest.json", k_max_json);
  if (!text) {
    return fail(text.error().code, "docker-archive: manifest.json: " + text.error().message);
  }
  auto list = nlohmann::json::parse(*text, nullptr, false);
  DockerImage image{.manifest = Descriptor{.media_type = std::string(media_type::docker_manifest),
                                           .digest = digest_of(""),
                                           .size = 0,
                                           .artifact_type = {},
                                           .annotations = {}},
                    .tag = {}};
  auto item = choose_image(list, ref, image.tag);
  if (!item) {
    return std::unexpected(item.error());
  }
  if (!item->contains("Config") || !item->contains("Layers") || !(*item)["Layers"].is_array()) {
    return fail(Errc::manifest_invalid, "docker-archive: manifest.json entry needs Config and Layers");
  }
  auto config_path = inside(extracted, (*item)["Config"]);
  if (!config_path) {
    return std::unexpected(config_path.error());
  }
  auto config = hash_file(*config_path, DigestAlgorithm::sha256);
  if (!config) {
    return std::unexpected(config.error());
  }
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", media_type::docker_manifest},
      {"config", {{"mediaType", k_docker_config_type}, {"size", config->size}, {"digest", config->digest.str()}}},
      {"layers", nlohmann::json::array()}};
  std::map<std::filesystem::path, Descriptor> done;  // docker save may list one layer file twice
  for (const auto& name : (*item)["Layers"]) {
    auto path = inside(extracted, name);
    if (!path) {
      return std::unexpected(path.error());
    }
    auto it = done.find(*path);
    if (it == done.end()) {
      auto layer = add_layer(*path, extracted / (".layer-" + std::to_string(done.size()) + ".tar.gz"), layout);
      if (!layer) {
        return std::unexpected(layer.error());
      }
      it = done.emplace(*path, *layer).first;
    }
    manifest["layers"].push_back(descriptor_to_json(it->second));
  }
  if (auto ok = layout.adopt_file(*config_path, config->digest); !ok) {
    return std::unexpected(ok.error());
  }
  std::string bytes = manifest.dump();
  image.manifest.digest = digest_of(bytes);
  image.manifest.size = bytes.size();
  if (auto ok = write_small_file(layout.blob_path(image.manifest.digest), bytes); !ok) {
    return std::unexpected(ok.error());
  }
  return image;
}

}  // namespace regd::cli
