#include "regd/digest.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace regd {
namespace {

using namespace std::string_view_literals;

std::string pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    data[i] = static_cast<char>(i % 251);
  }
  return data;
}

struct Vector {
  DigestAlgorithm algorithm;
  std::string input;
  std::string hex;
};

std::vector<Vector> known_vectors() {
  return {
      {DigestAlgorithm::sha256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {DigestAlgorithm::sha256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {DigestAlgorithm::sha256, pattern(1 << 20), "631b84027d6b9e52b539c4e8373622d23032dfadc64d60af87339c9037e4f769"},
      {DigestAlgorithm::sha512, "",
       "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a"
       "81a538327af927da3e"},
      {DigestAlgorithm::sha512, "abc",
       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce"
       "80e2a9ac94fa54ca49f"},
      {DigestAlgorithm::sha512, pattern(1 << 20),
       "67dad569eefc986a3b2424f5516d5a0284bb53d7b52d75f5ed881a6830a95765ccc82bc48752fb693422579f11dc9a400561ec1885af9"
       "eeef703dbbd312d4fd0"},
  };
}

TEST(Hasher, MatchesKnownVectors) {
  for (const auto& v : known_vectors()) {
    auto digest = digest_of(v.input, v.algorithm);
    EXPECT_EQ(digest.hex(), v.hex) << algorithm_name(v.algorithm) << " of " << v.input.size() << " bytes";
    EXPECT_EQ(digest.algorithm(), v.algorithm);
    EXPECT_EQ(digest.str(), std::string(algorithm_name(v.algorithm)) + ":" + v.hex);
  }
}

TEST(Hasher, StreamingEqualsOneShotAndStaysUsable) {
  auto data = pattern(100000);
  Hasher hasher(DigestAlgorithm::sha256);
  for (size_t offset = 0; offset < data.size(); offset += 777) {
    hasher.update(std::string_view(data).substr(offset, 777));
  }
  EXPECT_EQ(hasher.size(), data.size());
  EXPECT_EQ(hasher.digest(), digest_of(data));
  // digest() must not finalize the running state.
  EXPECT_EQ(hasher.digest(), digest_of(data));
  hasher.update("x"sv);
  EXPECT_EQ(hasher.digest(), digest_of(data + "x"));
}

TEST(Hasher, CopyIsIndependent) {
  Hasher first;
  first.update("ab"sv);
  Hasher second = first;
  second.update("c"sv);
  EXPECT_EQ(first.digest(), digest_of("ab"));
  EXPECT_EQ(second.digest(), digest_of("abc"));
}

TEST(Hasher, ExportImportAtManySplitPoints) {
  auto data = pattern(5000);
  std::vector<size_t> splits = {0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 4096, 5000};
  for (auto algorithm : {DigestAlgorithm::sha256, DigestAlgorithm::sha512}) {
    auto expected = digest_of(data, algorithm);
    for (size_t split : splits) {
      Hasher head(algorithm);
      head.update(std::string_view(data).substr(0, split));
      auto state = head.export_state();
      EXPECT_EQ(state.size(), algorithm == DigestAlgorithm::sha256 ? 108u : 204u);
      auto resumed = Hasher::import_state(algorithm, state);
      ASSERT_OK(resumed);
      EXPECT_EQ(resumed->size(), split);
      EXPECT_EQ(resumed->export_state(), state) << "split " << split;
      resumed->update(std::string_view(data).substr(split));
      EXPECT_EQ(resumed->digest(), expected) << algorithm_name(algorithm) << " split " << split;
    }
  }
}

std::string be_words(const std::vector<uint64_t>& words, int bytes) {
  std::string out;
  for (auto word : words) {
    for (int i = bytes - 1; i >= 0; --i) {
      out.push_back(static_cast<char>((word >> (8 * i)) & 0xff));
    }
  }
  return out;
}

// Expected bytes written from the SHA-256 spec (FIPS 180-4 initial hash value) and Go's
// crypto/sha256 MarshalBinary layout.
TEST(Hasher, ExportsGoSha256StateByteForByte) {
  Hasher hasher;
  hasher.update("abc"sv);
  std::string expected("sha\x03", 4);
  expected +=
      be_words({0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}, 4);
  expected += "abc";
  expected += std::string(61, '\0');
  expected += be_words({3}, 8);
  ASSERT_EQ(expected.size(), 108u);
  auto state = hasher.export_state();
  ASSERT_EQ(state.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(static_cast<unsigned char>(state[i]), static_cast<unsigned char>(expected[i])) << "byte " << i;
  }
}

TEST(Hasher, ExportsGoSha512StateByteForByte) {
  Hasher hasher(DigestAlgorithm::sha512);
  hasher.update("abc"sv);
  std::string expected("sha\x07", 4);
  expected += be_words({0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
                        0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179},
                       8);
  expected += "abc";
  expected += std::string(125, '\0');
  expected += be_words({3}, 8);
  ASSERT_EQ(expected.size(), 204u);
  EXPECT_EQ(hasher.export_state(), expected);
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// States written by registry:2 (Debian's docker-registry 2.8) under _uploads/<id>/hashstates/
// sha256/<offset> after PATCHing bytes (i * 7) % 256 of a 100000-byte blob.
TEST(Hasher, MatchesStatesWrittenByRegistry2) {
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 7) % 256);
  }
  const std::vector<std::pair<size_t, std::string>> states = {
      {1000,
       "73686103a58197f9b6db7b47ebecb4b6d1fcdbaf87864cbb30a879146f311d42b6f33a4340474e555c636a71787f868d949ba2a9b0b7"
       "bec5ccd3dae1e8eff6fd040b121920272e353c434a5100000000000000000000000000000000000000000000000000000000000003e8"},
      {70001,
       "7368610346014fd3e77d7e00084966e26481179b52de8e092af7deb6dbe5a52f62b35645c0c7ced5dce3eaf1f8ff060d141b22293037"
       "3e454c535a61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb0209100000000000000000000000000000000000000000011171"},
  };
  for (const auto& [offset, hex] : states) {
    auto go_state = from_hex(hex);
    ASSERT_EQ(go_state.size(), 108u);
    Hasher ours;
    ours.update(std::string_view(data).substr(0, offset));
    EXPECT_EQ(ours.export_state(), go_state) << "offset " << offset;
    auto resumed = Hasher::import_state(DigestAlgorithm::sha256, go_state);
    ASSERT_OK(resumed);
    resumed->update(std::string_view(data).substr(offset));
    EXPECT_EQ(resumed->digest(), digest_of(data)) << "offset " << offset;
  }
}

TEST(Hasher, ExportedBufferHoldsTheTailAndLengthInBytes) {
  auto data = pattern(1000);
  Hasher hasher;
  hasher.update(std::string_view(data));
  auto state = hasher.export_state();
  // 1000 = 15 * 64 + 40: the last 40 bytes are buffered, then zero padding.
  EXPECT_EQ(state.substr(36, 40), data.substr(960));
  EXPECT_EQ(state.substr(76, 24), std::string(24, '\0'));
  EXPECT_EQ(state.substr(100), be_words({1000}, 8));
}

TEST(Hasher, ImportRejectsCorruptState) {
  Hasher hasher;
  hasher.update("abc"sv);
  auto state = hasher.export_state();
  EXPECT_ERRC(Hasher::import_state(DigestAlgorithm::sha256, state.substr(0, 107)), Errc::corrupt);
  EXPECT_ERRC(Hasher::import_state(DigestAlgorithm::sha256, state + "x"), Errc::corrupt);
  EXPECT_ERRC(Hasher::import_state(DigestAlgorithm::sha256, ""), Errc::corrupt);
  auto bad_magic = state;
  bad_magic[3] = '\x07';
  EXPECT_ERRC(Hasher::import_state(DigestAlgorithm::sha256, bad_magic), Errc::corrupt);
  EXPECT_ERRC(Hasher::import_state(DigestAlgorithm::sha512, state), Errc::corrupt);
}

TEST(Digest, ParsesValidDigests) {
  std::string hex256(64, 'a');
  auto d = Digest::parse("sha256:" + hex256);
  ASSERT_OK(d);
  EXPECT_EQ(d->algorithm(), DigestAlgorithm::sha256);
  EXPECT_EQ(d->hex(), hex256);
  EXPECT_EQ(d->str(), "sha256:" + hex256);
  auto d512 = Digest::parse("sha512:" + std::string(128, '0'));
  ASSERT_OK(d512);
  EXPECT_EQ(d512->algorithm(), DigestAlgorithm::sha512);
  auto known = Digest::parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  ASSERT_OK(known);
  EXPECT_EQ(*known, digest_of(""));
}

TEST(Digest, RejectsMalformedDigests) {
  std::string hex256(64, 'a');
  const std::vector<std::string> bad = {
      "",
      "sha256",
      hex256,
      "sha256:",
      ":" + hex256,
      "sha256:" + std::string(64, 'A'),
      "sha256:" + std::string(63, 'a'),
      "sha256:" + std::string(65, 'a'),
      "sha256:" + std::string(128, 'a'),
      "sha512:" + hex256,
      "sha256:../..",
      "sha256:" + std::string(62, 'a') + "/a",
      "sha256:" + std::string(63, 'a') + "g",
      "SHA256:" + hex256,
      "sha256+:" + hex256,
      "-sha256:" + hex256,
      "sha256::" + hex256,
      "sha256 :" + hex256,
      "sha256:" + hex256 + "\n",
  };
  for (const auto& text : bad) {
    EXPECT_ERRC(Digest::parse(text), Errc::digest_invalid);
  }
}

TEST(Digest, UnknownWellFormedAlgorithmIsUnsupported) {
  EXPECT_ERRC(Digest::parse("md5:d41d8cd98f00b204e9800998ecf8427e"), Errc::unsupported);
  EXPECT_ERRC(Digest::parse("sha384:" + std::string(96, 'a')), Errc::unsupported);
  EXPECT_ERRC(Digest::parse("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"), Errc::unsupported);
  EXPECT_ERRC(Digest::parse("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"), Errc::unsupported);
}

TEST(Digest, OrdersAndComparesByAlgorithmThenHex) {
  auto a = Digest::parse("sha256:" + std::string(64, '1')).value();
  auto b = Digest::parse("sha256:" + std::string(64, '2')).value();
  EXPECT_LT(a, b);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, Digest::parse(a.str()).value());
}

}  // namespace
}  // namespace regd
