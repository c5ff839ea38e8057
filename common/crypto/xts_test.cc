#include "common/crypto/xts.h"

#include <openssl/evp.h>

#include "common/crypto/encoding.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::crypto {
namespace {

using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

std::string Hex(absl::string_view hex) { return *Base16Decode(hex); }

// IEEE 1619-2007 Annex B, Vector 10: XTS-AES-256, data unit sequence number 0xff, 512-byte data unit.
constexpr char kV10Key[] =
    "2718281828459045235360287471352662497757247093699959574966967627"
    "3141592653589793238462643383279502884197169399375105820974944592";
constexpr char kV10Cipher[] =
    "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc33"
    "45befecb4bb188fd5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0c5cd4d5fff9dac89aeba122961d03a75"
    "7123e9870f8acf1000020887891429ca2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0b5781c34803fa754"
    "21c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
    "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a84e18e8f84252070c13e9f1f289be54fbc481457778f6160"
    "15e1327a02b140f1505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae9be69a2ffeceb1bec9de244fbe15992b"
    "11b77c040f12bd8f6a975a44a0f90c29a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac6e333b93eb4aff04"
    "79da9a410e4450e0dd7ae4c6e2910900575da401fc07059f645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
    "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70"
    "b9c6e693e148c151";

TEST(Xts, Ieee1619Vector10) {
  std::string plain(512, '\0');
  for (int i = 0; i < 512; ++i) plain[i] = static_cast<char>(i & 0xff);
  std::string expected = Hex(kV10Cipher);
  ASSERT_EQ(expected.size(), 512u);
  absl::StatusOr<XtsCipher> xts = XtsCipher::Create(Hex(kV10Key), 512);
  ASSERT_TRUE(xts.ok()) << xts.status();
  std::string data = plain;
  ASSERT_THAT(xts->EncryptSectors(0xff, data.data(), data.size()), IsOk());
  EXPECT_EQ(Base16Encode(data), kV10Cipher);
  ASSERT_THAT(xts->DecryptSectors(0xff, data.data(), data.size()), IsOk());
  EXPECT_EQ(data, plain);
}

// Independent check: each 4 KiB sector equals a one-shot EVP call with tweak = LE64(sector number) || 0^8.
TEST(Xts, MultiSectorMatchesEvpPerSector) {
  std::string key;
  for (int i = 0; i < 64; ++i) key.push_back(static_cast<char>(i * 3 + 1));
  std::string plain(4096 * 5, '\0');
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<char>((i * 131) >> 3);
  const uint64_t first = 0x0123456789aULL;
  absl::StatusOr<XtsCipher> xts = XtsCipher::Create(key, 4096);
  ASSERT_TRUE(xts.ok());
  std::string ours = plain;
  ASSERT_THAT(xts->EncryptSectors(first, ours.data(), ours.size()), IsOk());
  for (int s = 0; s < 5; ++s) {
    unsigned char iv[16] = {0};
    uint64_t sector = first + s;
    for (int b = 0; b < 8; ++b) iv[b] = static_cast<unsigned char>(sector >> (8 * b));
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::string out(4096, '\0');
    int len = 0;
    ASSERT_EQ(
        EVP_EncryptInit_ex(ctx, EVP_aes_256_xts(), nullptr, reinterpret_cast<const unsigned char*>(key.data()), iv), 1);
    ASSERT_EQ(EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                                reinterpret_cast<const unsigned char*>(plain.data()) + 4096 * s, 4096),
              1);
    EVP_CIPHER_CTX_free(ctx);
    EXPECT_EQ(ours.substr(4096 * s, 4096), out) << "sector " << s;
  }
  ASSERT_THAT(xts->DecryptSectors(first, ours.data(), ours.size()), IsOk());
  EXPECT_EQ(ours, plain);
}

TEST(Xts, RejectsBadKeysAndPartialSectors) {
  EXPECT_THAT(XtsCipher::Create(std::string(32, 'k'), 512), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(XtsCipher::Create(std::string(64, 'k'), 512),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("halves")));
  std::string key = std::string(32, 'a') + std::string(32, 'b');
  EXPECT_THAT(XtsCipher::Create(key, 100), StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<XtsCipher> xts = XtsCipher::Create(key, 512);
  ASSERT_TRUE(xts.ok());
  std::string data(700, 'x');
  EXPECT_THAT(xts->EncryptSectors(0, data.data(), data.size()),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("whole number")));
}

}  // namespace
}  // namespace vmb::crypto
