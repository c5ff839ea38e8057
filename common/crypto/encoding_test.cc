#include "common/crypto/encoding.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::crypto {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_THAT(Base64Decode(encoded), IsOkAndHolds(std::string(plain)));
  }
  std::string binary("\x00\xff\xfe\x01", 4);
  EXPECT_THAT(Base64Decode(Base64Encode(binary)), IsOkAndHolds(binary));
}

TEST(Base64, IgnoresWhitespaceAndNamesBadInput) {
  EXPECT_THAT(Base64Decode(" Zm9v\r\nYmFy\n"), IsOkAndHolds(std::string("foobar")));
  EXPECT_THAT(Base64Decode("Zm9v*mFy"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'*' at offset 4")));
  EXPECT_THAT(Base64Decode("Zm9vY"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("multiple of 4")));
  EXPECT_THAT(Base64Decode("Zg==Zg=="), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("after '='")));
  EXPECT_THAT(Base64Decode("Z==="), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Base16, RoundTripAndErrors) {
  EXPECT_EQ(Base16Encode(std::string("\x01\xab", 2)), "01ab");
  EXPECT_EQ(Base16Encode(std::string("\x01\xab", 2), true), "01AB");
  EXPECT_THAT(Base16Decode("01AbfF"), IsOkAndHolds(std::string("\x01\xab\xff", 3)));
  EXPECT_THAT(Base16Decode("abc"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("odd length")));
  EXPECT_THAT(Base16Decode("zz"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("offset 0")));
}

}  // namespace
}  // namespace vmb::crypto
