// The one place where core errors become HTTP: regd::Errc -> status + OCI error code, and the
// spec's JSON error body {"errors":[{"code","message","detail"}]}.
#pragma once

#include <string_view>

#include "http_types.h"
#include "regd/error.h"

namespace regd::daemon {

// Which endpoint group failed: a few codes (not_found, invalid_argument, conflict, too_large)
// mean different OCI codes in different groups.
enum class Area { base, blob, upload, manifest, tags, referrers };

struct HttpError {
  unsigned status = 500;
  std::string_view code;  // OCI error code, e.g. "BLOB_UNKNOWN"
};

HttpError http_error(Errc code, Area area);

// True for the codes that mean the storage itself failed (io_error, corrupt, no_space, denied).
bool is_storage_failure(Errc code);

// A complete error response: status, JSON body, Content-Type. A storage failure's message is
// never sent (it names storage paths): the body says "storage error (request id <id>)" and the
// detail is logged with current_request_id() (log.h).
Response error_response(const Error& error, Area area);
Response error_response(unsigned status, std::string_view code, std::string_view message);

}  // namespace regd::daemon
