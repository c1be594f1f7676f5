#include "layout.h"

#include <array>
#include <charconv>
#include <ctime>
#include <stdexcept>
#include <vector>

#include <openssl/rand.h>

namespace regd::layout {

namespace {

std::string join(std::initializer_list<std::string_view> parts) {
  size_t size = parts.size();
  for (std::string_view part : parts) {
    size += part.size();
  }
  std::string out;
  out.reserve(size);  // one allocation: paths are built on every request
  for (std::string_view part : parts) {
    if (!out.empty()) {
      out += '/';
    }
    out += part;
  }
  return out;
}

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// Parses exactly `width` digits at text[pos].
bool parse_digits(std::string_view text, size_t pos, size_t width, int& out) {
  if (pos + width > text.size()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + width, out);
  return ec == std::errc() && ptr == text.data() + pos + width;
}

}  // namespace

std::string blobs_root(DigestAlgorithm algorithm) {
  return join({k_prefix, "blobs", algorithm_name(algorithm)});
}

std::string blob_dir(const Digest& digest) {
  const std::string& hex = digest.hex();
  return join({k_prefix, "blobs", digest.algorithm_name(), std::string_view(hex).substr(0, 2), hex});
}

std::string blob_data(const Digest& digest) {
  const std::string& hex = digest.hex();
  return join({k_prefix, "blobs", digest.algorithm_name(), std::string_view(hex).substr(0, 2), hex, "data"});
}

std::string repositories_root() {
  return join({k_prefix, "repositories"});
}

std::string repo_dir(std::string_view repo) {
  return join({k_prefix, "repositories", repo});
}

std::string layer_dir(std::string_view repo, const Digest& digest) {
  return join({repo_dir(repo), "_layers", digest.algorithm_name(), digest.hex()});
}

std::string layer_link(std::string_view repo, const Digest& digest) {
  return join({k_prefix, "repositories", repo, "_layers", digest.algorithm_name(), digest.hex(), "link"});
}

std::string manifests_root(std::string_view repo) {
  return join({repo_dir(repo), "_manifests"});
}

std::string revisions_root(std::string_view repo) {
  return join({manifests_root(repo), "revisions"});
}

std::string revisions_dir(std::string_view repo, DigestAlgorithm algorithm) {
  return join({revisions_root(repo), algorithm_name(algorithm)});
}

// The paths every request builds are joined in one piece (one allocation each).
std::string revision_dir(std::string_view repo, const Digest& digest) {
  return join({k_prefix, "repositories", repo, "_manifests/revisions", digest.algorithm_name(), digest.hex()});
}

std::string revision_link(std::string_view repo, const Digest& digest) {
  return join({k_prefix, "repositories", repo, "_manifests/revisions", digest.algorithm_name(), digest.hex(), "link"});
}

std::string tags_dir(std::string_view repo) {
  return join({repo_dir(repo), "_manifests/tags"});
}

std::string sorted_tags(std::string_view repo) {
  return join({repo_dir(repo), "_manifests/tags.regd-index"});
}

std::string tag_dir(std::string_view repo, std::string_view tag) {
  return join({tags_dir(repo), tag});
}

std::string tag_current_dir(std::string_view repo, std::string_view tag) {
  return join({tag_dir(repo, tag), "current"});
}

std::string tag_current_link(std::string_view repo, std::string_view tag) {
  return join({k_prefix, "repositories", repo, "_manifests/tags", tag, "current/link"});
}

std::string tag_index_dir(std::string_view repo, std::string_view tag) {
  return join({tag_dir(repo, tag), "index"});
}

std::string tag_index_link(std::string_view repo, std::string_view tag, const Digest& digest) {
  return join({tag_dir(repo, tag), "index", digest.algorithm_name(), digest.hex(), "link"});
}

std::string upload_dir(std::string_view repo, std::string_view id) {
  return join({repo_dir(repo), "_uploads", id});
}

std::string upload_data(std::string_view repo, std::string_view id) {
  return upload_dir(repo, id) + "/data";
}

std::string upload_temp_dir(std::string_view repo, std::string_view id) {
  return join({repo_dir(repo), "_uploads", ".tmp-" + std::string(id)});
}

std::string upload_started_at(std::string_view repo, std::string_view id) {
  return upload_dir(repo, id) + "/startedat";
}

std::string upload_lock(std::string_view repo, std::string_view id) {
  return upload_dir(repo, id) + "/lock";
}

std::string upload_hash_state(std::string_view repo, std::string_view id, DigestAlgorithm algorithm, uint64_t offset) {
  return join({upload_dir(repo, id), "hashstates", algorithm_name(algorithm), std::to_string(offset)});
}

std::string referrers_dir(std::string_view repo) {
  return join({repo_dir(repo), "_referrers"});
}

std::string referrers_subject_dir(std::string_view repo, const Digest& subject) {
  return join({referrers_dir(repo), subject.algorithm_name(), subject.hex()});
}

std::string referrer_dir(std::string_view repo, const Digest& subject, const Digest& referrer) {
  return join({referrers_subject_dir(repo, subject), referrer.algorithm_name(), referrer.hex()});
}

std::string referrer_link(std::string_view repo, const Digest& subject, const Digest& referrer) {
  return referrer_dir(repo, subject, referrer) + "/link";
}

std::string link_content(const Digest& digest) {
  return digest.str();
}

Result<Digest> parse_link(std::string_view content, const std::string& path) {
  auto digest = Digest::parse(content);
  if (!digest) {
    return fail(Errc::corrupt, "link " + path + ": " + digest.error().message);
  }
  return *digest;
}

bool is_upload_id(std::string_view id) {
  if (id.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !is_lower_hex(id[i])) {
      return false;
    }
  }
  return true;
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : raw) {
    out += k_hex[b >> 4];
    out += k_hex[b & 0x0f];
  }
  return out;
}

std::string new_upload_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      id += '-';
    }
    id += k_hex[bytes[i] >> 4];
    id += k_hex[bytes[i] & 0x0f];
  }
  return id;
}

std::string format_time(Clock::time_point time) {
  std::time_t seconds = Clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::array<char, 32> buf{};
  size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

Result<Clock::time_point> parse_time(std::string_view text) {
  std::tm tm{};
  bool ok = text.size() >= 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
            text[16] == ':' && parse_digits(text, 0, 4, tm.tm_year) && parse_digits(text, 5, 2, tm.tm_mon) &&
            parse_digits(text, 8, 2, tm.tm_mday) && parse_digits(text, 11, 2, tm.tm_hour) &&
            parse_digits(text, 14, 2, tm.tm_min) && parse_digits(text, 17, 2, tm.tm_sec);
  size_t pos = 19;
  if (ok && text[pos] == '.') {
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
    }
  }
  if (!ok || pos + 1 != text.size() || text[pos] != 'Z') {
    return fail(Errc::corrupt, "bad RFC 3339 UTC time '" + std::string(text) + "'");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto time = clock_from_seconds(timegm(&tm));
  if (!time) {
    return fail(Errc::corrupt, "RFC 3339 time '" + std::string(text) + "' is out of range");
  }
  return *time;
}

std::string layers_root(std::string_view repo) {
  return join({repo_dir(repo), "_layers"});
}

std::string uploads_root(std::string_view repo) {
  return join({repo_dir(repo), "_uploads"});
}

std::string gc_root() {
  return join({k_prefix, "_gc"});
}

std::string gc_lease() {
  return join({k_prefix, "_gc", "lease"});
}

std::string gc_lease_lock() {
  return join({k_prefix, "_gc", "lease.lock"});
}

std::string gc_clock() {
  return join({k_prefix, "_gc", "clock"});
}

std::string storage_clock() {
  return "_regd/clock";
}

std::string catalog_list(std::string_view prefix) {
  return prefix.empty() ? "_regd/catalog/_list" : join({"_regd/catalog", prefix, "_list"});
}

std::string gc_trash_root() {
  return join({k_prefix, "_trash"});
}

std::string gc_trash(std::string_view run_id) {
  return join({gc_trash_root(), run_id});
}

}  // namespace regd::layout
