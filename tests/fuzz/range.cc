// The Range (GET of a blob) and Content-Range (upload PATCH) parsers of daemon/http_util, plus
// the other header and query helpers there. The first 8 bytes are the representation size for
// parse_range. Invariants: a satisfiable range lies inside the representation; a parsed
// Content-Range has first <= last and its canonical form parses to the same range.
#include <cstring>

#include "fuzz_util.h"
#include "http_util.h"
#include "regd/base64.h"

using regd::fuzz::require;
namespace d = regd::daemon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t representation = 0;
  if (size >= sizeof representation) {
    std::memcpy(&representation, data, sizeof representation);
    data += sizeof representation;
    size -= sizeof representation;
  }
  auto text = regd::fuzz::text_of(data, size);
  for (uint64_t length : {representation, representation % 4096, uint64_t{0}, UINT64_MAX}) {
    auto range = d::parse_range(text, length);
    if (range.kind == d::RangeKind::single) {
      require(range.range.first <= range.range.last && range.range.last < length, "a range lies inside the content",
              text);
    }
  }
  if (auto range = d::parse_content_range(text)) {
    require(range->first <= range->last, "Content-Range first <= last", text);
    auto canonical = std::to_string(range->first) + "-" + std::to_string(range->last);
    auto again = d::parse_content_range(canonical);
    require(again && again->first == range->first && again->last == range->last, "Content-Range round-trips", text);
  }
  if (auto n = d::parse_uint(text)) {
    require(std::to_string(*n) == text || text.starts_with('0') || text.starts_with('+'), "parse_uint is decimal",
            text);
  }
  if (auto decoded = d::percent_decode(text)) {
    auto again = d::percent_decode(d::percent_encode(*decoded));
    require(again && *again == *decoded, "percent_encode round-trips", text);
  }
  if (auto decoded = regd::base64_decode(text, regd::Base64Form::any)) {
    require(regd::base64_decode(regd::base64_encode(*decoded)) == decoded, "base64 round-trips", text);
  }
  (void)d::etag_matches(text, "\"sha256:0\"");
  (void)d::query_values(text, "n");
  (void)d::query_value(text, "last");
  return 0;
}
