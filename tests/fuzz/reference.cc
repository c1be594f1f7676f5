// Reference::parse, validate_repository and validate_tag over arbitrary text. Invariants: a
// parsed reference re-serialises to text that parses to the same reference, and its parts are
// valid on their own (a valid name never holds "..", "//" or a leading or trailing '/').
#include "regd/reference.h"

#include "fuzz_util.h"

using regd::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = regd::fuzz::text_of(data, size);
  auto name_valid = regd::validate_repository(text).has_value();
  if (name_valid) {
    require(text.find("..") == std::string_view::npos && text.find("//") == std::string_view::npos &&
                !text.starts_with('/') && !text.ends_with('/') && text.size() <= regd::k_max_name_length,
            "a valid repository name is a safe relative path", text);
  }
  if (regd::validate_tag(text)) {
    require(text.find('/') == std::string_view::npos && text != "." && text != "..",
            "a valid tag is one path component", text);
  }
  auto ref = regd::Reference::parse(text);
  if (!ref) {
    return 0;
  }
  require(regd::validate_repository(ref->repository).has_value(), "parsed name is valid", text);
  require(!ref->tag || regd::validate_tag(*ref->tag).has_value(), "parsed tag is valid", text);
  auto again = regd::Reference::parse(ref->str());
  require(again.has_value(), "str() of a parsed reference parses", ref->str());
  require(again->repository == ref->repository && again->tag == ref->tag && again->digest == ref->digest,
          "str() round-trips", text);
  require(ref->str() == text, "str() is the text it was parsed from", text);
  return 0;
}
