// The S3 backend of the storage seam (regd/storage.h; docs/adr/0002-object-storage.md): storage
// paths are keys under the root's prefix in one bucket, in registry:2's layout. Private to
// core/src/s3/; open_storage_root (regd/storage_root.h) makes one.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "regd/storage.h"
#include "s3/client.h"

namespace regd::s3 {

// A lock whose holder died is taken over `lock_ttl` after its last renewal.
std::unique_ptr<Storage> make_storage(Endpoint endpoint, std::string prefix,
                                      std::chrono::seconds lock_ttl = std::chrono::seconds(20));

}  // namespace regd::s3
