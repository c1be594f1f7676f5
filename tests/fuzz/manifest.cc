// parse_manifest (parsing and validation) over arbitrary bytes, with the Content-Type taken
// from the first line of the input. Invariants: a manifest that validates has a manifest media
// type, images have a config and no manifests, indexes the reverse, and every descriptor digest
// is a valid digest.
#include "regd/manifest.h"

#include "fuzz_util.h"

using regd::fuzz::require;

namespace {

void check_descriptor(const regd::Descriptor& descriptor, std::string_view input) {
  require(regd::Digest::parse(descriptor.digest.str()).has_value(), "descriptor digest is valid", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = regd::fuzz::text_of(data, size);
  auto rest = input;
  auto content_type = regd::fuzz::take_until(rest, '\n');
  for (auto type : {content_type, std::string_view{}}) {
    auto parsed = regd::parse_manifest(type, rest);
    if (!parsed) {
      continue;
    }
    require(regd::is_manifest_media_type(parsed->media_type), "a valid manifest has a manifest media type", input);
    if (parsed->kind == regd::ManifestKind::image) {
      require(parsed->config.has_value() && parsed->manifests.empty(), "an image has a config, no manifests", input);
      check_descriptor(*parsed->config, input);
    } else {
      require(!parsed->config && parsed->layers.empty(), "an index has no config and no layers", input);
    }
    for (const auto& d : parsed->layers) {
      check_descriptor(d, input);
    }
    for (const auto& d : parsed->manifests) {
      check_descriptor(d, input);
    }
    if (parsed->subject) {
      check_descriptor(*parsed->subject, input);
    }
    (void)regd::artifact_type_of(*parsed);
    (void)regd::referrer_artifact_type(*parsed);
  }
  return 0;
}
