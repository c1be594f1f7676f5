// Every path of the registry:2 on-disk layout (docs/storage-layout.md), relative to the storage
// root. The only place that spells a path; callers pass names, tags and upload ids that were
// validated first, so no argument can inject a path component.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "regd/digest.h"
#include "regd/error.h"
#include "regd/storage.h"

namespace regd::layout {

inline constexpr std::string_view k_prefix = "docker/registry/v2";
// Link files hold one digest; anything larger is not a link.
inline constexpr size_t k_max_link_size = 256;

// blobs/<alg>, and blobs/<alg>/<hex[0:2]>/<hex>/data and its directory.
std::string blobs_root(DigestAlgorithm algorithm);
std::string blob_dir(const Digest& digest);
std::string blob_data(const Digest& digest);

std::string repositories_root();
std::string repo_dir(std::string_view repo);

// _layers/<alg>/<hex>/link and its directory.
std::string layer_dir(std::string_view repo, const Digest& digest);
std::string layer_link(std::string_view repo, const Digest& digest);

// _manifests, and _manifests/revisions[/<alg>[/<hex>[/link]]].
std::string manifests_root(std::string_view repo);
std::string revisions_root(std::string_view repo);
std::string revisions_dir(std::string_view repo, DigestAlgorithm algorithm);
std::string revision_dir(std::string_view repo, const Digest& digest);
std::string revision_link(std::string_view repo, const Digest& digest);

// _manifests/tags[/<tag>[/current/link | /index/<alg>/<hex>/link]].
std::string tags_dir(std::string_view repo);
std::string tag_dir(std::string_view repo, std::string_view tag);
std::string tag_current_dir(std::string_view repo, std::string_view tag);
std::string tag_current_link(std::string_view repo, std::string_view tag);
std::string tag_index_dir(std::string_view repo, std::string_view tag);
std::string tag_index_link(std::string_view repo, std::string_view tag, const Digest& digest);
// regd's sorted list of the tag names, beside tags/ (sorted_tags.h): _manifests/tags.regd-index.
std::string sorted_tags(std::string_view repo);

// _uploads/<id>/{data,startedat,lock,hashstates/<alg>/<offset>}.
std::string upload_dir(std::string_view repo, std::string_view id);
std::string upload_data(std::string_view repo, std::string_view id);
std::string upload_started_at(std::string_view repo, std::string_view id);
std::string upload_lock(std::string_view repo, std::string_view id);
std::string upload_hash_state(std::string_view repo, std::string_view id, DigestAlgorithm algorithm, uint64_t offset);
// Where a new session is assembled before one rename publishes it: _uploads/.tmp-<id>. Hidden
// from list() like every temp name, so readers and GC never see a half-made session.
std::string upload_temp_dir(std::string_view repo, std::string_view id);

// Extension: _referrers/<subject-alg>/<subject-hex>[/<alg>/<hex>/link].
std::string referrers_dir(std::string_view repo);
std::string referrers_subject_dir(std::string_view repo, const Digest& subject);
std::string referrer_dir(std::string_view repo, const Digest& subject, const Digest& referrer);
std::string referrer_link(std::string_view repo, const Digest& subject, const Digest& referrer);

// Link file content: "<alg>:<hex>", no newline.
std::string link_content(const Digest& digest);
// Parses a link file's content. Errors: corrupt (with `path` in the message).
[[nodiscard]] Result<Digest> parse_link(std::string_view content, const std::string& path);

// True for a lowercase UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; the only upload ids accepted.
bool is_upload_id(std::string_view id);
// A random version 4 UUID in lowercase.
std::string new_upload_id();
// `bytes` random bytes as lowercase hex (GC run ids, lease tokens).
std::string random_hex(size_t bytes);

// startedat content: RFC 3339 UTC with seconds, e.g. "2026-11-22T20:18:23Z".
std::string format_time(Clock::time_point time);
// Accepts the above, optionally with fractional seconds. Errors: corrupt.
[[nodiscard]] Result<Clock::time_point> parse_time(std::string_view text);

// Garbage collection's own directory (lease, storage clock marker) and its trash, where a
// sweep parks blob directories until it has re-checked their links.
std::string layers_root(std::string_view repo);
std::string uploads_root(std::string_view repo);
std::string gc_root();
std::string gc_lease();
std::string gc_lease_lock();
std::string gc_clock();
// The marker whose mtime is the storage clock outside GC (sorted_names.h): _regd/clock.
std::string storage_clock();
// The sorted list of the directory of repositories under `prefix` (listing.cc), outside the
// registry tree: _regd/catalog/<prefix>/_list, _regd/catalog/_list for the root. No name
// component starts with '_', so a list never collides with a nested one's directory.
std::string catalog_list(std::string_view prefix);
std::string gc_trash_root();
std::string gc_trash(std::string_view run_id);

}  // namespace regd::layout
