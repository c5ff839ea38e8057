#include "snapshot/settings.h"

#include "common/crypto/encoding.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snapshot/error_codes.h"

namespace vmb::snapshot {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

TEST(Ticks, IntegerAndDisplayForms) {
  absl::StatusOr<CommandTicks> t = ParseTicks("636458000000000000");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ticks, 636458000000000000);
  EXPECT_EQ(t->uncertainty, absl::ZeroDuration());
  // The seeds' form: six significant digits, so +/- 0.5e12 ticks = 50000 s.
  t = ParseTicks("6.36458E+17");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ticks, 636458000000000000);
  EXPECT_EQ(t->uncertainty, absl::Seconds(50000));
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d", TicksToTime(t->ticks), absl::UTCTimeZone()), "2017-11-09");
  EXPECT_EQ(ParseTicks(" 6.36458e17 ")->ticks, 636458000000000000);
  absl::Time now = absl::FromUnixSeconds(1763818801);
  EXPECT_EQ(TicksToTime(TimeToTicks(now)), now);
  EXPECT_EQ(TimeToTicks(absl::UnixEpoch()), kUnixEpochTicks);
}

TEST(Ticks, BadValuesAreCode11) {
  for (const char* bad : {"", "abc", "-5", "1.5E+30", "0x10"}) {
    absl::StatusOr<CommandTicks> t = ParseTicks(bad);
    EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_EQ(CodeOf(t.status(), -1), kBadParameter) << bad;
  }
}

TEST(ObjectStr, JsonBase64QuotedAndEscaped) {
  const std::string json = R"({"blobSASUri":["https:\/\/a.blob.core.windows.net\/vhds\/d.vhd?sig=x"],)"
                           R"("backupMetadata":[{"Key":"k1","Value":"v1"}]})";
  for (const std::string& form : {json, crypto::Base64Encode(json), " '" + crypto::Base64Encode(json) + "'\n",
                                  "'" + json + "'"}) {
    absl::StatusOr<ObjectStrContent> o = ParseObjectStr(form);
    ASSERT_TRUE(o.ok()) << o.status() << " for " << form;
    ASSERT_EQ(o->blob_sas_uris.size(), 1u);
    EXPECT_EQ(o->blob_sas_uris[0], "https://a.blob.core.windows.net/vhds/d.vhd?sig=x");
    ASSERT_EQ(o->metadata.size(), 1u);
    EXPECT_EQ(o->metadata[0].first, "k1");
  }
  EXPECT_THAT(ParseObjectStr("!!!"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("neither JSON nor base64")));
  EXPECT_THAT(ParseObjectStr(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no disks")));
  EXPECT_THAT(ParseObjectStr(R"({"blobSASUri": {"not": "a list"}})"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ErrorCodes, TableAndLanguages) {
  EXPECT_STREQ(InfoFor(402).name, "FailedGuestAgentInvokedCommandTooLate");
  EXPECT_TRUE(InfoFor(402).is_error);
  EXPECT_FALSE(InfoFor(3).is_error);
  EXPECT_EQ(InfoFor(305).code, 300);
  EXPECT_EQ(InfoFor(99999).code, 2);
  EXPECT_EQ(LangTag("de-de"), "de-DE");
  EXPECT_EQ(LangTag("xx"), "en-US");
  EXPECT_THAT(LocalizedMessage(402, "de-de"), HasSubstr("zu spät"));
  EXPECT_THAT(LocalizedMessage(402, "nl-NL"), HasSubstr("te laat"));
  EXPECT_THAT(LocalizedMessage(402, "sv-SE"), HasSubstr("för sent"));
  EXPECT_THAT(LocalizedMessage(402, "fr-fr"), HasSubstr("trop tard"));
  EXPECT_THAT(LocalizedMessage(402, "ja-jp", "detail"), HasSubstr("too late: detail"));
  for (const CodeInfo& c : AllCodes()) {
    for (const char* l : {"en", "de", "nl", "sv", "fr"}) EXPECT_FALSE(LocalizedMessage(c.code, l).empty());
  }
}

}  // namespace
}  // namespace vmb::snapshot
