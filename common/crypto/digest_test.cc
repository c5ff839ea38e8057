#include "common/crypto/digest.h"

#include "common/crypto/encoding.h"
#include "gtest/gtest.h"

namespace vmb::crypto {
namespace {

TEST(Digest, KnownAnswers) {
  EXPECT_EQ(Base16Encode(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Base16Encode(Md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Base16Encode(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Base16Encode(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Azure's Content-MD5 is base64 of the raw digest.
  EXPECT_EQ(Base64Encode(Md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST(Digest, StreamingEqualsOneShotAndResets) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 7));
  Digest d(DigestAlgorithm::kSha256);
  for (size_t off = 0; off < data.size(); off += 4093) d.Update(absl::string_view(data).substr(off, 4093));
  EXPECT_EQ(d.Finish(), Sha256(data));
  d.Update("abc");
  EXPECT_EQ(d.Finish(), Sha256("abc"));
}

TEST(Hmac, Rfc4231TestCase2) {
  EXPECT_EQ(Base16Encode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace vmb::crypto
