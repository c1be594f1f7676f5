// Digest::parse over arbitrary text, and the hash state import of upload sessions
// (Hasher::import_state reads a file from the storage tree). Invariants: a valid digest's
// string is the text it came from; an imported state's export imports to the same state.
#include "regd/digest.h"

#include "fuzz_util.h"

using regd::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = regd::fuzz::text_of(data, size);
  if (auto digest = regd::Digest::parse(text)) {
    require(digest->str() == text, "a parsed digest prints as its text", text);
    auto again = regd::Digest::parse(digest->str());
    require(again.has_value() && *again == *digest, "a digest's string round-trips", text);
    size_t hex = digest->algorithm() == regd::DigestAlgorithm::sha256 ? 64 : 128;
    require(digest->hex().size() == hex, "hex length matches the algorithm", text);
  }
  for (auto algorithm : {regd::DigestAlgorithm::sha256, regd::DigestAlgorithm::sha512}) {
    auto hasher = regd::Hasher::import_state(algorithm, text);
    if (!hasher) {
      continue;
    }
    // The bytes of the block buffer past the length are not part of the state (export zeroes
    // them): compare a second import of the export instead.
    auto exported = hasher->export_state();
    auto again = regd::Hasher::import_state(algorithm, exported);
    require(again.has_value() && again->export_state() == exported, "an exported state imports unchanged", text);
    require(again->size() == hasher->size(), "the length survives export and import", text);
    hasher->update(text);
    again->update(text);
    require(hasher->digest() == again->digest(), "re-imported states hash alike", text);
  }
  return 0;
}
