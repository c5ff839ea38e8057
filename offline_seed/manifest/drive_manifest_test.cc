#include "offline_seed/manifest/drive_manifest.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline::manifest {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::StatusIs;

DriveManifest Sample() {
  DriveManifest m;
  m.drive_id = "9CA995BA";
  BlobEntry b;
  b.blob_path = "offlinebackup/job1/image-0000.vhd";
  b.file_path = "\\job1\\image-0000.vhd";
  b.length = 16u << 20;
  b.ranges = {{0, 4u << 20, "109b21108597ef36d5785f08303f3638"}, {8u << 20, 512, "D41D8CD98F00B204E9800998ECF8427E"}};
  m.blobs.push_back(b);
  return m;
}

TEST(DriveManifest, RoundTripsInTheDocumentedShape) {
  absl::StatusOr<std::string> xml = Serialize(Sample());
  ASSERT_TRUE(xml.ok()) << xml.status();
  EXPECT_THAT(*xml, HasSubstr("<DriveManifest Version=\"2014-11-01\">"));
  EXPECT_THAT(*xml, HasSubstr("<DriveId>9CA995BA</DriveId>"));
  EXPECT_THAT(*xml,
              HasSubstr("<PageRange Offset=\"0\" Length=\"4194304\" Hash=\"109B21108597EF36D5785F08303F3638\" />"));
  EXPECT_THAT(*xml, HasSubstr("<ImportDisposition>overwrite</ImportDisposition>"));
  absl::StatusOr<DriveManifest> back = Parse(*xml);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->blobs.size(), 1u);
  EXPECT_EQ(back->blobs[0].ranges[0].md5_hex, "109B21108597EF36D5785F08303F3638");
  EXPECT_EQ(back->blobs[0].ranges[1].offset, 8u << 20);
}

TEST(DriveManifest, RulesAreEnforcedWithPreciseErrors) {
  struct Case {
    std::function<void(DriveManifest&)> mutate;
    std::string error;
  };
  const Case cases[] = {
      {[](DriveManifest& m) { m.blobs[0].ranges[1].offset = 100; }, "multiples of 512"},
      {[](DriveManifest& m) { m.blobs[0].ranges[0].length = (4u << 20) + 512; }, "longer than 4 MiB"},
      {[](DriveManifest& m) { m.blobs[0].ranges[1].offset = 1u << 20; }, "overlaps"},
      {[](DriveManifest& m) { m.blobs[0].ranges[1].offset = 16u << 20; }, "beyond the blob"},
      {[](DriveManifest& m) { m.blobs[0].ranges[0].md5_hex = "xyz"; }, "32 hex"},
      {[](DriveManifest& m) { m.blobs[0].length = 1000; }, "multiple of 512"},
      {[](DriveManifest& m) { m.blobs.push_back(m.blobs[0]); }, "listed twice"},
      {[](DriveManifest& m) { m.blobs[0].import_disposition = "merge"; }, "ImportDisposition"},
      {[](DriveManifest& m) { m.drive_id.clear(); }, "DriveId"},
  };
  for (const Case& c : cases) {
    DriveManifest m = Sample();
    c.mutate(m);
    EXPECT_THAT(Serialize(m), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.error))) << c.error;
  }
  EXPECT_THAT(Parse("<not xml"), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not XML")));
  EXPECT_THAT(Parse("<DriveManifest Version=\"2011-01-01\"/>"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("version")));
}

}  // namespace
}  // namespace vmb::offline::manifest
