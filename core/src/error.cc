#include "regd/error.h"

namespace regd {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::name_invalid:
      return "name_invalid";
    case Errc::tag_invalid:
      return "tag_invalid";
    case Errc::digest_invalid:
      return "digest_invalid";
    case Errc::unsupported:
      return "unsupported";
    case Errc::size_invalid:
      return "size_invalid";
    case Errc::range_invalid:
      return "range_invalid";
    case Errc::manifest_invalid:
      return "manifest_invalid";
    case Errc::manifest_blob_unknown:
      return "manifest_blob_unknown";
    case Errc::blob_unknown:
      return "blob_unknown";
    case Errc::manifest_unknown:
      return "manifest_unknown";
    case Errc::name_unknown:
      return "name_unknown";
    case Errc::upload_unknown:
      return "upload_unknown";
    case Errc::not_found:
      return "not_found";
    case Errc::exists:
      return "exists";
    case Errc::conflict:
      return "conflict";
    case Errc::too_large:
      return "too_large";
    case Errc::denied:
      return "denied";
    case Errc::immutable:
      return "immutable";
    case Errc::no_space:
      return "no_space";
    case Errc::io_error:
      return "io_error";
    case Errc::corrupt:
      return "corrupt";
    case Errc::no_registry:
      return "no_registry";
  }
  return "unknown";
}

}  // namespace regd
