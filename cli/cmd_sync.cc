// regctl sync FILE: mirrors repositories (tags chosen by globs, regexes, newest N) between the
// storage tree and other registries, copying only what the destination lacks.
#include <iostream>
#include <map>
#include <memory>

#include "commands.h"
#include "exit_codes.h"
#include "file_io.h"
#include "output.h"
#include "remote_copy.h"
#include "remote_options.h"
#include "sync_config.h"

namespace regd::cli {
namespace {

struct SyncOptions {
  std::string file;
  bool json = false;
  RemoteOptions remote;
};

// The ends of every rule, with one client per registry host.
class Ends {
 public:
  Ends(const RemoteOptions& options, Registry* registry) : m_options(options), m_registry(registry) {}

  Result<std::unique_ptr<ImageEnd>> open(const std::string& text) {
    if (!remote::is_docker_ref(text)) {
      return local_end(*m_registry, text);
    }
    auto ref = remote::RemoteRef::parse(text);
    if (!ref) {
      return std::unexpected(ref.error());
    }
    auto& client = m_clients[ref->host];
    if (!client) {
      auto made = open_remote(ref->host, m_options);
      if (!made) {
        return std::unexpected(made.error());
      }
      client = std::move(*made);
    }
    return remote_end(*client, ref->repository);
  }

  uint64_t requests() const {
    uint64_t n = 0;
    for (const auto& [host, client] : m_clients) {
      n += client->stats().requests;
    }
    return n;
  }

 private:
  const RemoteOptions& m_options;
  Registry* m_registry;
  std::map<std::string, std::unique_ptr<remote::Client>> m_clients;
};

nlohmann::json stats_json(const RemoteCopyStats& stats) {
  return {{"manifests_copied", stats.manifests_copied}, {"manifests_present", stats.manifests_present},
          {"blobs_copied", stats.blobs_copied},         {"blobs_present", stats.blobs_present},
          {"blobs_mounted", stats.blobs_mounted},       {"bytes_copied", stats.bytes_copied}};
}

// The repository a copy may mount from: the source, when both ends are on the same registry.
std::vector<std::string> mount_source(const SyncRule& rule) {
  auto source = remote::RemoteRef::parse(rule.source);
  auto target = remote::RemoteRef::parse(rule.target);
  if (remote::is_docker_ref(rule.source) && remote::is_docker_ref(rule.target) && source && target &&
      source->host == target->host) {
    return {source->repository};
  }
  return {};
}

Result<nlohmann::json> sync_rule(const SyncRule& rule, Ends& ends, Progress& progress) {
  auto from = ends.open(rule.source);
  if (!from) {
    return std::unexpected(from.error());
  }
  auto to = ends.open(rule.target);
  if (!to) {
    return std::unexpected(to.error());
  }
  auto all = (*from)->list_tags();
  if (!all) {
    return fail(all.error().code, rule.source + ": " + all.error().message);
  }
  auto tags = select_tags(rule, std::move(*all));
  progress.expect(tags.size(), 0);
  ImageCopier copier(**from, **to, RemoteCopyOptions{rule.referrers, mount_source(rule)}, progress);
  nlohmann::json copied = nlohmann::json::array();
  for (const auto& tag : tags) {
    auto top = copier.copy(tag, tag);
    if (!top) {
      return fail(top.error().code, rule.source + ":" + tag + " -> " + rule.target + ": " + top.error().message);
    }
    copied.push_back({{"tag", tag}, {"digest", top->digest.str()}, {"mediaType", top->media_type}});
  }
  nlohmann::json report = stats_json(copier.stats());
  report["source"] = rule.source;
  report["target"] = rule.target;
  report["tags"] = copied;
  return report;
}

void print_text(const nlohmann::json& mirrors, const GlobalOptions& global) {
  for (const auto& mirror : mirrors) {
    std::cout << mirror["source"].get<std::string>() << " -> " << mirror["target"].get<std::string>() << ": "
              << mirror["tags"].size() << " tags, copied " << mirror["manifests_copied"] << " manifests and "
              << mirror["blobs_copied"] << " blobs (" << human_size(mirror["bytes_copied"].get<uint64_t>()) << ")\n";
    if (!global.quiet) {
      for (const auto& tag : mirror["tags"]) {
        std::cout << "  " << tag["tag"].get<std::string>() << "@" << tag["digest"].get<std::string>() << '\n';
      }
    }
  }
}

Result<int> run_sync(const SyncOptions& options, const GlobalOptions& global) {
  auto text = read_small_file(options.file, 1 << 20);
  if (!text) {
    return fail(text.error().code == Errc::not_found ? Errc::invalid_argument : text.error().code,
                options.file + ": " + text.error().message);
  }
  auto rules = parse_sync_config(*text);
  if (!rules) {
    return fail(Errc::invalid_argument, options.file + ": " + rules.error().message);
  }
  bool local_source = false;
  bool local_target = false;
  for (const auto& rule : *rules) {
    local_source = local_source || !remote::is_docker_ref(rule.source);
    local_target = local_target || !remote::is_docker_ref(rule.target);
  }
  std::optional<Session> session;
  if (local_source || local_target) {
    auto opened = open_session(global, local_target ? Access::create : Access::read);
    if (!opened) {
      return std::unexpected(opened.error());
    }
    session = std::move(*opened);
  }
  Ends ends(options.remote, session ? session->registry.get() : nullptr);
  Progress progress(show_progress(global), "sync");
  nlohmann::json mirrors = nlohmann::json::array();
  for (const auto& rule : *rules) {
    auto report = sync_rule(rule, ends, progress);
    if (!report) {
      return std::unexpected(report.error());
    }
    mirrors.push_back(std::move(*report));
  }
  progress.finish();
  if (options.json) {
    print_json({{"mirrors", mirrors}, {"requests", ends.requests()}});
  } else {
    print_text(mirrors, global);
  }
  return k_exit_ok;
}

}  // namespace

void add_sync(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto options = std::make_shared<SyncOptions>();
  auto* cmd = app.add_subcommand("sync", "Mirror repositories between the storage tree and registries (docker://)");
  cmd->add_option("FILE", options->file,
                  "JSON file of mirrors: source, target, tags (globs or /regexes/), newest, "
                  "referrers (see regctl(1))")
      ->required();
  cmd->add_flag("--json", options->json, "Print a JSON report");
  add_remote_options(cmd, options->remote);
  cmd->footer(
      "Examples:\n"
      "  regctl --root /srv/registry sync --authfile auth.json mirrors.json\n"
      "  regctl sync --json mirrors.json | jq '.mirrors[].blobs_copied'\n"
      "A mirror: {\"source\": \"docker://127.0.0.1:5000/team/app\", \"target\": \"mirror/app\",\n"
      "           \"tags\": [\"v*\", \"/^release-[0-9]+$/\"], \"newest\": 3, \"referrers\": true}");
  cmd->callback([options, &global, &action] { action = [options, &global] { return run_sync(*options, global); }; });
}

}  // namespace regd::cli
