#include "error_table.h"

#include <nlohmann/json.hpp>

#include "log.h"

namespace regd::daemon {
namespace {

HttpError not_found_in(Area area) {
  switch (area) {
    case Area::blob:
      return {404, "BLOB_UNKNOWN"};
    case Area::upload:
      return {404, "BLOB_UPLOAD_UNKNOWN"};
    case Area::manifest:
    case Area::referrers:
      return {404, "MANIFEST_UNKNOWN"};
    case Area::tags:
    case Area::base:
      return {404, "NAME_UNKNOWN"};
  }
  return {404, "NAME_UNKNOWN"};
}

HttpError invalid_in(Area area) {
  switch (area) {
    case Area::upload:
    case Area::blob:
      return {400, "BLOB_UPLOAD_INVALID"};
    case Area::manifest:
      return {400, "MANIFEST_INVALID"};
    default:
      return {400, "UNSUPPORTED"};
  }
}

}  // namespace

HttpError http_error(Errc code, Area area) {
  switch (code) {
    case Errc::invalid_argument:
      return invalid_in(area);
    case Errc::name_invalid:
      return {400, "NAME_INVALID"};
    case Errc::tag_invalid:
      return {400, "TAG_INVALID"};
    case Errc::digest_invalid:
      return {400, "DIGEST_INVALID"};
    case Errc::unsupported:
      return {400, "UNSUPPORTED"};
    case Errc::size_invalid:
      return {400, "SIZE_INVALID"};
    case Errc::range_invalid:
      return {416, "RANGE_INVALID"};
    case Errc::manifest_invalid:
      return {400, "MANIFEST_INVALID"};
    case Errc::manifest_blob_unknown:
      return {400, "MANIFEST_BLOB_UNKNOWN"};
    case Errc::blob_unknown:
      return {404, "BLOB_UNKNOWN"};
    case Errc::manifest_unknown:
      return {404, "MANIFEST_UNKNOWN"};
    case Errc::name_unknown:
      return {404, "NAME_UNKNOWN"};
    case Errc::upload_unknown:
      return {404, "BLOB_UPLOAD_UNKNOWN"};
    case Errc::not_found:
      return not_found_in(area);
    case Errc::exists:
      return {409, "UNSUPPORTED"};
    case Errc::conflict:
      // Another request appends to the same upload: the client re-reads the Range and retries.
      if (area == Area::upload) {
        return {416, "RANGE_INVALID"};
      }
      return {429, "TOOMANYREQUESTS"};
    case Errc::too_large:
      return {413, "SIZE_INVALID"};
    case Errc::denied:
      return {403, "DENIED"};
    case Errc::immutable:
      // 409, not 403: the request conflicts with the tag's current state; credentials would not
      // help, and 403 makes clients suggest a login (docs/http-api.md).
      return {409, "DENIED"};
    case Errc::no_space:
      return {507, "UNKNOWN"};
    case Errc::io_error:
    case Errc::corrupt:
    case Errc::no_registry:
      return {500, "UNKNOWN"};
  }
  return {500, "UNKNOWN"};
}

Response error_response(unsigned status, std::string_view code, std::string_view message) {
  nlohmann::json error = {{"code", code}, {"message", message}, {"detail", nullptr}};
  Response r;
  r.status = status;
  r.set("Content-Type", "application/json");
  r.body = nlohmann::json{{"errors", nlohmann::json::array({error})}}.dump(-1, ' ', false,
                                                                           nlohmann::json::error_handler_t::replace) +
           "\n";
  return r;
}

bool is_storage_failure(Errc code) {
  return code == Errc::io_error || code == Errc::corrupt || code == Errc::no_space || code == Errc::denied ||
         code == Errc::no_registry;
}

namespace {

// The client learns that storage failed, and the request id to quote; the detail (which names
// storage paths) goes to the log only.
std::string client_message(const Error& error) {
  if (!is_storage_failure(error.code)) {
    return error.message;
  }
  auto request_id = current_request_id();
  log(LogLevel::error, "storage error",
      {{"request_id", request_id}, {"code", errc_name(error.code)}, {"error", error.message}});
  std::string message = error.code == Errc::no_space ? "storage full" : "storage error";
  if (!request_id.empty()) {
    message += " (request id " + std::string(request_id) + ")";
  }
  return message;
}

}  // namespace

Response error_response(const Error& error, Area area) {
  auto http = http_error(error.code, area);
  auto r = error_response(http.status, http.code, client_message(error));
  if (http.status == 429) {
    r.set("Retry-After", "1");
  }
  return r;
}

}  // namespace regd::daemon
