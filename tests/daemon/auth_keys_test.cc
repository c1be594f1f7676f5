#include "auth_keys.h"

#include <gtest/gtest.h>

#include "auth_test_keys.h"

namespace regd::daemon {
namespace {

using regd::testing::make_ec_key;
using regd::testing::make_rsa_key;

TEST(ParseSigningKey, EcP256SignsWithEs256) {
  auto key = parse_signing_key(make_ec_key().private_pem);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->alg, TokenAlg::es256);
  EXPECT_TRUE(key->pem.starts_with("-----BEGIN PRIVATE KEY-----"));
  EXPECT_TRUE(key->public_key.pem.starts_with("-----BEGIN PUBLIC KEY-----"));
}

TEST(ParseSigningKey, RsaSignsWithRs256) {
  auto key = parse_signing_key(make_rsa_key().private_pem);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->alg, TokenAlg::rs256);
  EXPECT_EQ(key->public_key.alg, TokenAlg::rs256);
}

TEST(ParseSigningKey, RefusesOtherCurvesShortRsaAndNonKeys) {
  auto p384 = parse_signing_key(make_ec_key("P-384").private_pem);
  ASSERT_FALSE(p384);
  EXPECT_NE(p384.error().message.find("line 1: not an EC P-256"), std::string::npos) << p384.error().message;
  auto short_rsa = parse_signing_key(make_rsa_key(1024).private_pem);
  ASSERT_FALSE(short_rsa);
  EXPECT_NE(short_rsa.error().message.find("shorter than 2048"), std::string::npos);
  EXPECT_FALSE(parse_signing_key("not a key"));
  EXPECT_FALSE(parse_signing_key(make_ec_key().public_pem));
}

TEST(ParseSigningKey, RefusesAnEncryptedKeyWithoutPrompting) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), nullptr, 0, nullptr, const_cast<char*>("pass"));
  EVP_PKEY_free(key);
  auto parsed = parse_signing_key(regd::testing::bio_string(bio));
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("not an unencrypted PEM private key"), std::string::npos);
}

TEST(ParseTrustedKeys, ReadsPublicKeysAndCertificates) {
  auto ec = make_ec_key();
  auto rsa = make_rsa_key();
  auto keys = parse_trusted_keys("issuer keys\n" + ec.public_pem + "\n" + rsa.certificate);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].alg, TokenAlg::es256);
  EXPECT_EQ((*keys)[0].pem, ec.public_pem);
  EXPECT_EQ((*keys)[1].alg, TokenAlg::rs256);
  EXPECT_EQ((*keys)[1].pem, rsa.public_pem);
}

TEST(ParseTrustedKeys, NamesTheLineOfTheBadBlock) {
  auto ec = make_ec_key();
  std::string text = ec.public_pem + "\n" + make_ec_key("P-384").public_pem;
  auto lines_before = static_cast<size_t>(std::count(ec.public_pem.begin(), ec.public_pem.end(), '\n')) + 2;
  auto keys = parse_trusted_keys(text);
  ASSERT_FALSE(keys);
  EXPECT_NE(keys.error().message.find("line " + std::to_string(lines_before) + ":"), std::string::npos)
      << keys.error().message;
  auto priv = parse_trusted_keys(ec.private_pem);
  ASSERT_FALSE(priv);
  EXPECT_NE(priv.error().message.find("line 1: expected a PUBLIC KEY or CERTIFICATE"), std::string::npos);
  EXPECT_FALSE(parse_trusted_keys(""));
  EXPECT_FALSE(parse_trusted_keys("-----BEGIN PUBLIC KEY-----\nAAAA\n"));
}

}  // namespace
}  // namespace regd::daemon
