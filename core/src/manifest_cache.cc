#include "manifest_cache.h"

#include <nlohmann/json.hpp>

#include "regd/manifest.h"
#include "regd/registry.h"

namespace regd {
namespace {

// Media type of stored content that regd's parser refuses, which may predate it (schema1 from
// registry:2, or content stored before the nesting limit). Too deep to parse cheaply: the
// default type, without building a DOM.
std::string fallback_media_type(std::string_view content) {
  if (json_deeper_than(content, k_max_manifest_depth)) {
    return std::string(media_type::oci_manifest);
  }
  auto json = nlohmann::json::parse(content, nullptr, false);
  if (json.is_object() && json.contains("mediaType") && json["mediaType"].is_string()) {
    return json["mediaType"].get<std::string>();
  }
  if (json.is_object() && json.value("schemaVersion", 0) == 1) {
    return "application/vnd.docker.distribution.manifest.v1+prettyjws";
  }
  if (json.is_object() && json.contains("manifests")) {
    return std::string(media_type::oci_index);
  }
  return std::string(media_type::oci_manifest);
}

size_t cost(const ManifestSummary& s) {
  size_t bytes = sizeof(ManifestSummary) + s.media_type.size() + s.artifact_type.size() + s.content.size();
  for (const auto& [key, value] : s.annotations) {
    bytes += key.size() + value.size() + 64;
  }
  return bytes;
}

}  // namespace

ManifestSummary summarize_manifest(std::string_view content) {
  ManifestSummary summary;
  summary.size = content.size();
  summary.content = std::string(content);
  auto parsed = parse_manifest("", content);
  if (!parsed) {
    summary.media_type = fallback_media_type(content);
    return summary;
  }
  summary.valid = true;
  summary.media_type = parsed->media_type;
  if (parsed->subject) {
    summary.subject = parsed->subject->digest;
  }
  summary.artifact_type = referrer_artifact_type(*parsed);
  summary.annotations = std::move(parsed->annotations);
  return summary;
}

ManifestCache::ManifestCache(size_t budget) : m_shard_budget(budget / k_shards) {}

ManifestCache::Shard& ManifestCache::shard_of(const std::string& key) const {
  return m_shards[std::hash<std::string>{}(key) % k_shards];
}

std::shared_ptr<const ManifestSummary> ManifestCache::find(const Digest& digest) const {
  std::string key = digest.str();
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.entries.find(key);
  return found == shard.entries.end() ? nullptr : found->second.first;
}

void ManifestCache::insert(const Digest& digest, std::shared_ptr<const ManifestSummary> summary) {
  size_t bytes = cost(*summary);
  if (bytes > m_shard_budget) {
    return;
  }
  std::string key = digest.str();
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.contains(key)) {
    return;
  }
  while (shard.bytes + bytes > m_shard_budget && !shard.order.empty()) {
    auto oldest = shard.entries.find(shard.order.front());
    shard.bytes -= oldest->second.second;
    shard.entries.erase(oldest);
    shard.order.pop_front();
  }
  shard.entries.emplace(key, std::make_pair(std::move(summary), bytes));
  shard.order.push_back(std::move(key));
  shard.bytes += bytes;
}

}  // namespace regd
