// What the S3 backend's parts share: the bucket's clients, the root's key prefix, and the few
// object-level routines more than one part needs (whole-prefix listings, server-side copies of
// any size, assembling a file held in several objects into one). Private to core/src/s3/.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "regd/error.h"
#include "regd/storage.h"
#include "s3/pool.h"

namespace regd::s3 {

// Parts are sent at this size (and small files in one PUT up to it): above S3's 5 MiB minimum
// for every part but the last, and what a writer holds in memory at most.
constexpr size_t k_part_size = 8u << 20;
constexpr uint64_t k_min_part = 5u << 20;
// The largest object CopyObject and one UploadPartCopy take.
constexpr uint64_t k_max_copy = 5ull << 30;

// One stretch of a file that one whole object holds: bytes [offset, offset + size) of the file.
struct Segment {
  std::string key;
  uint64_t offset = 0;
  uint64_t size = 0;
  Clock::time_point mtime;
};

struct Bucket {
  Bucket(Endpoint endpoint, std::string root_prefix) : pool(std::move(endpoint)), prefix(std::move(root_prefix)) {}

  ClientPool pool;
  std::string prefix;  // "" or "a/b": keys are prefix + "/" + storage path

  std::string key(const std::string& path) const { return prefix.empty() ? path : prefix + "/" + path; }
  // The storage path of a key: what messages name.
  std::string shown(const std::string& key) const {
    return !prefix.empty() && key.starts_with(prefix + "/") ? key.substr(prefix.size() + 1) : key;
  }

  // Every object whose key starts with `key_prefix` (no delimiter), page by page, in key order.
  // Stops at, and returns, the first error `visit` returns. Errors: denied, io_error.
  Status for_each_object(const std::string& key_prefix, const std::function<Status(const ListedObject&)>& visit);
  // A server-side copy of the whole object `from` (of `size` bytes) to `to`, keeping `mtime` as
  // the copy's (over 5 GiB, assembled in parts, the copy's mtime is its own).
  // Errors: not_found, denied, no_space, io_error.
  Status copy_object(const std::string& from, uint64_t size, const std::string& to, Clock::time_point mtime);
  // Writes the concatenation of `segments` (contiguous, in order) as the object `to`: parts of
  // at least 5 MiB are copied server-side, smaller ones are read and sent as parts of 8 MiB.
  // The object appears whole or not at all. Errors: not_found, denied, no_space, io_error.
  Status assemble(const std::vector<Segment>& segments, const std::string& to);
};

}  // namespace regd::s3
