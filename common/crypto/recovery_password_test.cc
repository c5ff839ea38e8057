#include "common/crypto/recovery_password.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

// Deterministic source for reproducible tests: bytes 0, 1, 2, ... (mod 256), or all 0xff.
class CountingRandom : public RandomSource {
 public:
  explicit CountingRandom(int fixed = -1) : fixed_(fixed) {}
  void Fill(char* out, size_t size) override {
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(fixed_ >= 0 ? fixed_ : next_++);
  }

 private:
  int fixed_;
  int next_ = 0;
};

TEST(RecoveryPassword, FormatIsBitLockers) {
  for (int round = 0; round < 50; ++round) {
    RecoveryPassword p = RecoveryPassword::Generate(SecureRandom());
    std::string s = p.ToString();
    EXPECT_THAT(s, MatchesRegex("[0-9]{6}(-[0-9]{6}){7}"));
    for (int g = 0; g < 8; ++g) {
      int v = std::stoi(s.substr(7 * g, 6));
      EXPECT_EQ(v % 11, 0);
      EXPECT_LT(v, 720896);
    }
    absl::StatusOr<RecoveryPassword> parsed = RecoveryPassword::Parse(s);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_TRUE(*parsed == p);
    EXPECT_EQ(parsed->KeyMaterial(), p.KeyMaterial());
  }
}

TEST(RecoveryPassword, EncodesSixteenBitsPerGroupLittleEndian) {
  CountingRandom ones(0xff);
  RecoveryPassword max = RecoveryPassword::Generate(ones);
  EXPECT_EQ(max.ToString(), "720885-720885-720885-720885-720885-720885-720885-720885");  // 65535 * 11
  CountingRandom counting;
  RecoveryPassword p = RecoveryPassword::Generate(counting);
  EXPECT_EQ(p.ToString().substr(0, 13), "002816-008470");  // 0x0100*11, 0x0302*11
  EXPECT_EQ(p.KeyMaterial(), std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16));
}

TEST(RecoveryPassword, ParseAcceptsSpacesAndNamesTheBadGroup) {
  const std::string good = "002816-008448-014080-019712-025344-030976-036608-042240";
  EXPECT_THAT(RecoveryPassword::Parse(" 002816 008448 014080 019712 025344 030976 036608 042240 ").status(), IsOk());
  EXPECT_THAT(RecoveryPassword::Parse("002816008448014080019712025344030976036608042240").status(), IsOk());
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"002816-008448-014081-019712-025344-030976-036608-042240", "group 3 (014081) is not a multiple of 11"},
      {"002816-008448-014080-019712-025344-030976-036608-720896", "group 8 (720896) is too large"},
      {"002816-008448-014080-019712-025344-030976-036608", "8 groups of 6 digits, got 7 groups"},
      {"002816-08448-014080-019712-025344-030976-036608-042240", "group 2 has 5 digits"},
      {"002816-008448-01408O-019712-025344-030976-036608-042240", "only digits and dashes"},
      {"", "got 0 groups"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<RecoveryPassword> r = RecoveryPassword::Parse(c.text);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error))) << c.text;
    // Never echo the rest of the password.
    if (!r.ok()) {
      EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("036608"))) << c.text;
    }
  }
  (void)good;
}

TEST(KeyWrap, RandomDataKeyWrappedUnderPasswordKek) {
  KdfParams params = NewKdfParams(SecureRandom());
  params.n = 1 << 10;  // fast for tests; production uses the default
  RecoveryPassword password = RecoveryPassword::Generate(SecureRandom());
  absl::StatusOr<std::string> kek = DeriveKeyEncryptionKey(password, params);
  ASSERT_TRUE(kek.ok()) << kek.status();
  ASSERT_EQ(kek->size(), 32u);
  std::string data_key = SecureRandom().Bytes(64);
  absl::StatusOr<std::string> wrapped = WrapKey(*kek, data_key);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status();
  EXPECT_EQ(wrapped->size(), 72u);
  EXPECT_EQ(*UnwrapKey(*kek, *wrapped), data_key);
  // The KEK is not the data key and not derivable without the salt.
  EXPECT_EQ(wrapped->find(data_key), std::string::npos);
  KdfParams other_salt = params;
  other_salt.salt[0] ^= 1;
  EXPECT_NE(*DeriveKeyEncryptionKey(password, other_salt), *kek);
  // Wrong password and tampered blob are refused, not silently decoded.
  RecoveryPassword wrong = RecoveryPassword::Generate(SecureRandom());
  EXPECT_THAT(UnwrapKey(*DeriveKeyEncryptionKey(wrong, params), *wrapped),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("does not unlock")));
  std::string tampered = *wrapped;
  tampered[10] ^= 0x40;
  EXPECT_THAT(UnwrapKey(*kek, tampered), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(DeriveKeyEncryptionKey(password, KdfParams{"short"}), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace vmb::crypto
