#include "common/blob/blob_uri.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::blob {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

// From seed 000's sample objectStr.
constexpr char kSeedDisk[] =
    "https://sopattna5365.blob.core.windows.net/vhds/vmwin1404ltsc201652903941.vhd?sv=2014-02-14&sr=b&sig="
    "TywkROXL1zvhXcLujtCut8g3jTpgbE6JpSWRLZxAdtA%3D&st=2017-11-09T14%3A23%3A28Z&se=2017-11-09T17%3A38%3A28Z&sp=rw";

TEST(BlobUri, ParsesTheSeedsSasUri) {
  absl::StatusOr<BlobUri> u = BlobUri::Parse(kSeedDisk);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->account(), "sopattna5365");
  EXPECT_EQ(u->container(), "vhds");
  EXPECT_EQ(u->blob(), "vmwin1404ltsc201652903941.vhd");
  EXPECT_TRUE(u->has_signature());
  EXPECT_EQ(*u->SasParam("sig"), "TywkROXL1zvhXcLujtCut8g3jTpgbE6JpSWRLZxAdtA=");
  EXPECT_EQ(*u->SasParam("sp"), "rw");
  EXPECT_EQ(*u->SasExpiry(), absl::FromCivil(absl::CivilSecond(2017, 11, 9, 17, 38, 28), absl::UTCTimeZone()));
  EXPECT_EQ(u->ToString(), kSeedDisk);  // the SAS is sent exactly as received
  EXPECT_THAT(u->Redacted(), Not(HasSubstr("TywkROXL")));
  EXPECT_THAT(u->Redacted(), HasSubstr("vmwin1404ltsc201652903941.vhd?sv=2014-02-14&sr=b&sig=REDACTED&st="));
}

TEST(BlobUri, PathStyleSnapshotsAndEncodedNames) {
  absl::StatusOr<BlobUri> u = BlobUri::Parse(
      "http://127.0.0.1:10000/devstoreaccount1/vhds/dir/"
      "disk%20%C3%A9.vhd?snapshot=2017-11-09T14%3A33%3A29.1234567Z&sv=1&sig=x");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->account(), "devstoreaccount1");
  EXPECT_EQ(u->blob(), "dir/disk \xC3\xA9.vhd");
  EXPECT_EQ(u->snapshot(), "2017-11-09T14:33:29.1234567Z");
  EXPECT_EQ(u->sas(), "sv=1&sig=x");
  EXPECT_EQ(u->ResourceUrl(), "http://127.0.0.1:10000/devstoreaccount1/vhds/dir/disk%20%C3%A9.vhd");
  EXPECT_EQ(u->RequestUrl({{"comp", "snapshot"}}, false),
            "http://127.0.0.1:10000/devstoreaccount1/vhds/dir/disk%20%C3%A9.vhd?comp=snapshot&sv=1&sig=x");
  EXPECT_EQ(u->WithBlob("a").RequestUrl(), "http://127.0.0.1:10000/devstoreaccount1/vhds/a?sv=1&sig=x");
  EXPECT_EQ(u->WithContainer("c").container(), "c");
  EXPECT_FALSE(u->WithContainer("c").is_blob());
}

TEST(BlobUri, SasUsability) {
  absl::Time t2017 = absl::FromCivil(absl::CivilSecond(2017, 11, 9, 15, 0, 0), absl::UTCTimeZone());
  BlobUri u = *BlobUri::Parse(kSeedDisk);
  EXPECT_THAT(u.CheckSasUsable(t2017), IsOk());
  absl::Status expired = u.CheckSasUsable(t2017 + absl::Hours(5));
  EXPECT_THAT(expired, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("expired at 2017-11-09T17:38:28Z")));
  EXPECT_THAT(std::string(expired.message()), Not(HasSubstr("TywkROXL")));
  BlobUri unsigned_uri = *BlobUri::Parse("https://a.blob.core.windows.net/vhds/d.vhd?sv=2014-02-14&sr=b&se=2030-01-01");
  EXPECT_THAT(unsigned_uri.CheckSasUsable(t2017),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("no SAS signature")));
  BlobUri bad_se = *BlobUri::Parse("https://a.blob.core.windows.net/vhds/d.vhd?sig=x&se=tomorrow");
  EXPECT_THAT(bad_se.CheckSasUsable(t2017), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("se=tomorrow")));
}

TEST(BlobUri, RejectsMalformedUris) {
  EXPECT_THAT(BlobUri::Parse("not a uri"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(BlobUri::Parse("http://127.0.0.1:10000/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("account")));
  EXPECT_THAT(BlobUri::Parse("https://a.blob.core.windows.net/c/b?sig=%ZZ"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("percent")));
}

TEST(MetadataNames, CSharpIdentifiers) {
  EXPECT_TRUE(IsValidMetadataName("taskId"));
  EXPECT_TRUE(IsValidMetadataName("_x1"));
  EXPECT_FALSE(IsValidMetadataName("1x"));
  EXPECT_FALSE(IsValidMetadataName("a-b"));
  EXPECT_FALSE(IsValidMetadataName(""));
}

}  // namespace
}  // namespace vmb::blob
