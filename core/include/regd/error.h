// Errors as values. Every fallible core function returns Result<T> (std::expected); the daemon
// and the CLI translate an Errc exactly once, from a table, at their edge.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace regd {

enum class Errc {
  invalid_argument,       // malformed input that fits no more specific code
  name_invalid,           // repository name violates the spec grammar
  tag_invalid,            // tag violates the spec grammar
  digest_invalid,         // malformed digest, or content does not match the digest given
  unsupported,            // well-formed but unsupported (digest algorithm, media type)
  size_invalid,           // content length differs from the size declared
  range_invalid,          // upload offset or byte range does not fit the current size
  manifest_invalid,       // manifest does not parse or validate
  manifest_blob_unknown,  // a manifest references a blob or manifest missing from the repo
  blob_unknown,           // blob not in this repository
  manifest_unknown,       // manifest or tag not in this repository
  name_unknown,           // repository does not exist
  upload_unknown,         // no such upload session
  not_found,              // storage: the path does not exist
  exists,                 // storage: the path already exists
  conflict,               // a concurrent writer holds what this operation needs
  too_large,              // body or manifest over a configured limit
  denied,                 // storage refused access (EACCES, EPERM, EROFS)
  immutable,              // a configured rule forbids the change (an immutable tag would move or go)
  no_space,               // storage is full (ENOSPC, EDQUOT)
  io_error,               // any other storage failure
  corrupt,                // stored data fails its own checks (bad link, digest mismatch on disk)
  no_registry,            // storage: the root holds no registry tree (empty dir, unmounted share, wrong path)
};

// Stable snake_case name of a code, e.g. "digest_invalid".
std::string_view errc_name(Errc code);

struct Error {
  Errc code;
  std::string message;  // with context, e.g. "blob sha256:ab12…: short read"
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

// Builds the error branch of any Result: `return fail(Errc::not_found, "tag " + t);`
inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

// True when `status` failed because its path does not exist.
inline bool is_missing(const Status& status) {
  return !status && status.error().code == Errc::not_found;
}

}  // namespace regd
