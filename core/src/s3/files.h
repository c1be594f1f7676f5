// The S3 backend's file handles (storage.h's ReadFile, WriteFile, AppendFile) over objects.
// A file is one object, except an upload's data, which any instance appends to: there it is a
// base object plus "pieces", one object per stretch appended, keyed by the offset they start at
// (PiecedFile). Private to core/src/s3/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "regd/storage.h"
#include "s3/bucket.h"

namespace regd::s3 {

// Where the pieces of the appendable file at `key` live: "<dir>/.pieces-<name>/". list() hides
// these names; remove_all() of the directory takes them along.
std::string pieces_prefix(const std::string& key);
// The objects holding the appendable file at `key`, in order (empty: no such file): the base
// object and the pieces contiguous with it. Pieces after a gap (an interrupted removal or cut)
// are not part of the file; their keys go to `orphans` when given. Errors: denied, io_error.
Result<std::vector<Segment>> pieced_segments(Bucket& bucket, const std::string& key,
                                             std::vector<std::string>* orphans = nullptr);

// Reads `segments` (the file's objects, contiguous) by ranged GETs, a window at a time.
std::unique_ptr<ReadFile> make_read_file(Bucket& bucket, std::vector<Segment> segments);
// Buffers up to 8 MiB, then continues as a multipart upload; commit() makes the object appear.
std::unique_ptr<WriteFile> make_write_file(Bucket& bucket, std::string key);
// Appends to the pieced file at `key` whose objects are `segments` (the base object first).
std::unique_ptr<AppendFile> make_append_file(Bucket& bucket, std::string key, std::vector<Segment> segments);

}  // namespace regd::s3
