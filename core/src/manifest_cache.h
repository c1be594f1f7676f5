// What the read path needs of a stored manifest (its media type, subject, artifact type and
// annotations), computed once per digest and kept in a bounded in-process cache, so that GET,
// HEAD and referrer listings never parse stored content again. Content-addressed and immutable:
// every process computes the same summary for a digest, so caching it is only ever a repeat.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "regd/digest.h"

namespace regd {

struct ManifestSummary {
  std::string media_type;         // as GET reports it (also for content regd's parser refuses)
  uint64_t size = 0;              // bytes of the content
  bool valid = false;             // parse_manifest accepted the content
  std::optional<Digest> subject;  // set only when valid
  std::string artifact_type;      // referrer_artifact_type, when valid
  std::map<std::string, std::string> annotations;
  std::string content;  // the stored bytes: GET serves them from here once the links say so
};

// Summarizes stored content, a copy of it included; never fails (content regd would refuse still gets a media type).
ManifestSummary summarize_manifest(std::string_view content);

class ManifestCache {
 public:
  // At most about `budget` bytes of summaries (content, strings and annotations counted); a
  // summary larger than a shard's share is not kept (budget 0: none is). Oldest entries go first.
  explicit ManifestCache(size_t budget = 64 * 1024 * 1024);

  // The summary of `digest`, or null. Thread-safe (sharded mutexes).
  std::shared_ptr<const ManifestSummary> find(const Digest& digest) const;
  // Remembers `summary` for `digest`. Thread-safe.
  void insert(const Digest& digest, std::shared_ptr<const ManifestSummary> summary);

 private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::pair<std::shared_ptr<const ManifestSummary>, size_t>> entries;
    std::deque<std::string> order;  // insertion order, for eviction
    size_t bytes = 0;
  };
  static constexpr size_t k_shards = 8;
  Shard& shard_of(const std::string& key) const;

  size_t m_shard_budget;
  mutable std::array<Shard, k_shards> m_shards;
};

}  // namespace regd
