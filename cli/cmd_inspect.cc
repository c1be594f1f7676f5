// regctl inspect REPO[:TAG|@DIGEST]: a manifest, its config and its referrers.
#include <iostream>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "oci_layout.h"
#include "output.h"
#include "regd/manifest.h"

namespace regd::cli {
namespace {

constexpr size_t k_max_config = 16 * 1024 * 1024;

struct InspectOptions {
  std::string reference;
  bool raw = false;
  bool config = false;
  bool json = false;
};

// Whole content of a small blob (a config). Errors: blob_unknown, too_large, io_error.
Result<std::string> read_small_blob(Registry& registry, std::string_view repo, const Descriptor& blob) {
  if (blob.size > k_max_config) {
    return fail(Errc::too_large, "config " + blob.digest.str() + " is larger than 16 MiB");
  }
  auto reader = registry.open_blob(repo, blob.digest);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  std::string content((*reader)->size() < k_max_config ? (*reader)->size() : k_max_config, '\0');
  auto done = read_full_at(**reader, 0, content);
  if (!done) {
    return std::unexpected(done.error());
  }
  content.resize(*done);
  return content;
}

void print_human(const Reference& ref, const Manifest& manifest, const ParsedManifest& parsed,
                 const nlohmann::json& config, const std::vector<Descriptor>& referrers) {
  std::vector<std::vector<std::string>> rows = {{"Name:", ref.repository},
                                                {"Digest:", manifest.digest.str()},
                                                {"MediaType:", manifest.media_type},
                                                {"Size:", std::to_string(manifest.content.size())}};
  if (std::string artifact_type = artifact_type_of(parsed); !artifact_type.empty()) {
    rows.push_back({"ArtifactType:", artifact_type});
  }
  if (config.is_object() && config.contains("os") && config.contains("architecture")) {
    rows.push_back({"Platform:", config["os"].get<std::string>() + "/" + config["architecture"].get<std::string>()});
  }
  if (parsed.config) {
    rows.push_back({"Config:", parsed.config->digest.str() + " (" + human_size(parsed.config->size) + ")"});
  }
  if (parsed.subject) {
    rows.push_back({"Subject:", parsed.subject->digest.str()});
  }
  uint64_t total = 0;
  for (const auto& layer : parsed.layers) {
    total += layer.size;
  }
  if (parsed.kind == ManifestKind::image) {
    rows.push_back({"Layers:", std::to_string(parsed.layers.size()) + " (" + human_size(total) + ")"});
  }
  for (const auto& layer : parsed.layers) {
    rows.push_back({"", layer.digest.str(), human_size(layer.size), layer.media_type});
  }
  if (parsed.kind == ManifestKind::index) {
    rows.push_back({"Manifests:", std::to_string(parsed.manifests.size())});
  }
  for (const auto& child : parsed.manifests) {
    rows.push_back({"", child.digest.str(), human_size(child.size), child.media_type});
  }
  rows.push_back({"Referrers:", std::to_string(referrers.size())});
  for (const auto& referrer : referrers) {
    rows.push_back({"", referrer.digest.str(), referrer.artifact_type});
  }
  print_table(rows);
}

nlohmann::json inspect_json(const Reference& ref, const Manifest& manifest, const nlohmann::json& config,
                            const std::vector<Descriptor>& referrers) {
  nlohmann::json referrer_list = nlohmann::json::array();
  for (const auto& referrer : referrers) {
    referrer_list.push_back(descriptor_to_json(referrer));
  }
  return {{"name", ref.repository},
          {"digest", manifest.digest.str()},
          {"mediaType", manifest.media_type},
          {"size", manifest.content.size()},
          {"manifest", nlohmann::json::parse(manifest.content, nullptr, false)},
          {"config", config},
          {"referrers", referrer_list}};
}

Result<int> run_inspect(const InspectOptions& options, const GlobalOptions& global) {
  auto ref = parse_reference_arg(options.reference);
  if (!ref) {
    return std::unexpected(ref.error());
  }
  auto session = open_session(global, Access::read);
  if (!session) {
    return std::unexpected(session.error());
  }
  auto& registry = *session->registry;
  auto manifest = registry.get_manifest(ref->repository, ref->target().empty() ? "latest" : ref->target());
  if (!manifest) {
    return std::unexpected(manifest.error());
  }
  if (options.raw) {
    std::cout << manifest->content << std::flush;
    return k_exit_ok;
  }
  auto parsed = parse_manifest(manifest->media_type, manifest->content);
  if (!parsed) {
    return std::unexpected(parsed.error());
  }
  std::string config_bytes;
  if (parsed->config) {
    auto config = read_small_blob(registry, ref->repository, *parsed->config);
    if (!config) {
      return std::unexpected(config.error());
    }
    config_bytes = std::move(*config);
  }
  if (options.config && !parsed->config) {
    return fail(Errc::invalid_argument, options.reference + " is an index: it has no config (inspect a child)");
  }
  if (options.config) {
    std::cout << config_bytes << std::flush;
    return k_exit_ok;
  }
  auto config_json = nlohmann::json::parse(config_bytes, nullptr, false);
  if (config_json.is_discarded()) {
    config_json = nullptr;
  }
  auto referrers = registry.list_referrers(ref->repository, manifest->digest, std::nullopt);
  if (!referrers) {
    return std::unexpected(referrers.error());
  }
  if (!options.json) {
    print_human(*ref, *manifest, *parsed, config_json, *referrers);
    return k_exit_ok;
  }
  print_json(inspect_json(*ref, *manifest, config_json, *referrers));
  return k_exit_ok;
}

}  // namespace

void add_inspect(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "Show a manifest, its config and its referrers");
  cmd->add_option("REPO[:TAG|@DIGEST]", options->reference, "Image (default tag: latest)")->required();
  auto* raw = cmd->add_flag("--raw", options->raw, "Print the manifest bytes exactly as stored");
  auto* config = cmd->add_flag("--config", options->config, "Print the config blob bytes exactly as stored");
  auto* json = cmd->add_flag("--json", options->json, "Print manifest, config and referrers as one JSON document");
  raw->excludes(config)->excludes(json);
  config->excludes(json);
  cmd->footer(
      "Examples:\n"
      "  regctl --root /srv/registry inspect team/app:v1\n"
      "  regctl inspect --raw team/app@sha256:... | sha256sum\n"
      "  regctl inspect --json team/app:v1 | jq .config.architecture");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_inspect(*options, global); }; });
}

}  // namespace regd::cli
