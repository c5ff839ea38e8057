#include <cstdlib>

#include "common/file/file_util.h"
#include "common/io/testing/block_device_contract.h"
#include "common/process/subprocess.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simulators/sata/drive.h"
#include "simulators/sata/identify.h"

namespace vmb::sata {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

TEST(Identify, LayoutFollowsTheAtaCommandSet) {
  IdentifyInfo in;
  in.model = "ST4000NM0035-1V4107";
  in.serial = "ZC1A2B3C";
  in.firmware = "TN03";
  in.sectors = 7814037168ull;  // 4 TB: beyond 28-bit LBA
  in.sata = SataGeneration::kGen3;
  in.rotation_rate = 7200;
  in.form_factor = FormFactor::k35;
  std::string d = EncodeIdentify(in);
  ASSERT_EQ(d.size(), 512u);
  // Words 27-46: model, two characters per word, first in the high byte.
  EXPECT_EQ(d.substr(54, 4), std::string("TS04"));
  EXPECT_EQ(d.substr(20, 2), std::string("CZ"));        // serial at word 10
  EXPECT_EQ(static_cast<unsigned char>(d[120]), 0xff);  // words 60-61 saturate at 0x0FFFFFFF
  EXPECT_EQ(static_cast<unsigned char>(d[123]), 0x0f);
  EXPECT_EQ(static_cast<unsigned char>(d[167]) & 0x04, 0x04);  // word 83 bit 10: LBA48
  EXPECT_EQ(static_cast<unsigned char>(d[152]) & 0x08, 0x08);  // word 76 bit 3: 6.0 Gb/s
  EXPECT_EQ(static_cast<unsigned char>(d[434]) | static_cast<unsigned char>(d[435]) << 8, 7200);  // word 217
  EXPECT_EQ(static_cast<unsigned char>(d[336]), 2);                                               // word 168: 3.5"
  EXPECT_EQ(static_cast<unsigned char>(d[510]), 0xA5);
  unsigned sum = 0;
  for (unsigned char c : d) sum += c;
  EXPECT_EQ(sum & 0xff, 0u);

  absl::StatusOr<IdentifyInfo> out = DecodeIdentify(d);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->model, in.model);
  EXPECT_EQ(out->serial, in.serial);
  EXPECT_EQ(out->sectors, in.sectors);
  EXPECT_EQ(out->sata, SataGeneration::kGen3);
  EXPECT_EQ(out->form_factor, FormFactor::k35);

  in.logical_sector_size = 4096;
  in.sata = SataGeneration::kGen2;
  in.rotation_rate = 1;
  out = DecodeIdentify(EncodeIdentify(in));
  EXPECT_EQ(out->logical_sector_size, 4096u);
  EXPECT_EQ(out->sata, SataGeneration::kGen2);
  EXPECT_EQ(out->rotation_rate, 1);

  d[100] ^= 1;
  EXPECT_THAT(DecodeIdentify(d), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum")));
}

class DriveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bay_ = std::make_unique<DriveBay>(
        ::vmb::testing::TempDir() + "/bay-" + ::testing::UnitTest::GetInstance()->current_test_info()->name(), clock_);
    proto::DriveSpec s;
    s.set_name("d1");
    s.set_model("Samsung SSD 870 EVO 2TB");
    s.set_serial("S6PNNX0T123456");
    s.set_capacity(64u << 20);
    s.set_formfactor("2.5");
    s.set_media("ssd");
    s.set_interface("sata3");
    ASSERT_THAT(bay_->Create(s), IsOk());
  }
  FakeClock clock_;
  std::unique_ptr<DriveBay> bay_;
};

TEST_F(DriveTest, KeepsTheBlockDeviceContract) {
  absl::StatusOr<std::unique_ptr<SataDrive>> drive = bay_->Open("d1");
  ASSERT_TRUE(drive.ok()) << drive.status();
  io::testing::ExpectBlockDeviceContract(**drive);
}

// The cache drains to the media on its own once it holds 16 MiB (so the disk under the bay writes while the host
// sends more): a cut keeps what was destaged and loses only what is still cached; a flush makes the rest durable.
TEST_F(DriveTest, TheCacheDestagesOnItsOwnAndACutLosesOnlyWhatItStillHolds) {
  auto drive = *bay_->Open("d1");
  const std::string range(4u << 20, 'c');
  for (uint64_t i = 0; i < 5; ++i) ASSERT_THAT(drive->Write(i * range.size(), range), IsOk());  // 16 MiB + 4 MiB
  drive->PowerCut();
  std::string out;
  ASSERT_THAT(drive->Read(0, 20u << 20, &out), IsOk());
  EXPECT_EQ(out.substr(0, 16u << 20), std::string(16u << 20, 'c'));
  EXPECT_EQ(out.substr(16u << 20), std::string(4u << 20, '\0'));
  ASSERT_THAT(drive->Write(16u << 20, range), IsOk());
  ASSERT_THAT(drive->Flush(), IsOk());
  drive->PowerCut();
  drive.reset();
  auto again = *bay_->Open("d1");
  ASSERT_THAT(again->Read(0, 20u << 20, &out), IsOk());
  EXPECT_EQ(out, std::string(20u << 20, 'c'));
}

TEST_F(DriveTest, PowerCutLosesOnlyUnflushedWrites) {
  auto drive = *bay_->Open("d1");
  ASSERT_THAT(drive->Write(0, std::string(4096, 'a')), IsOk());
  ASSERT_THAT(drive->Flush(), IsOk());
  ASSERT_THAT(drive->Write(4096, std::string(4096, 'b')), IsOk());
  std::string out;
  ASSERT_THAT(drive->Read(0, 8192, &out), IsOk());
  EXPECT_EQ(out, std::string(4096, 'a') + std::string(4096, 'b'));  // the cache serves reads
  drive->PowerCut();
  ASSERT_THAT(drive->Read(0, 8192, &out), IsOk());
  EXPECT_EQ(out, std::string(4096, 'a') + std::string(4096, '\0'));
  drive.reset();
  auto again = *bay_->Open("d1");
  ASSERT_THAT(again->Read(0, 4096, &out), IsOk());
  EXPECT_EQ(out, std::string(4096, 'a'));
  EXPECT_THAT(again->Write(100, std::string(512, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("aligned")));
  EXPECT_THAT(again->Write(64u << 20, std::string(512, 'x')), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST_F(DriveTest, OverlappingCachedWritesReadBackAsTheLastWriteWins) {
  auto drive = *bay_->Open("d1");
  std::string expected(64 * 512, '\0');
  auto write = [&](uint64_t off, uint64_t len, char c) {
    ASSERT_THAT(drive->Write(off, std::string(len, c)), IsOk());
    expected.replace(off, len, std::string(len, c));
  };
  write(0, 16 * 512, 'a');
  write(8 * 512, 16 * 512, 'b');  // overlaps the tail of a
  write(4 * 512, 2 * 512, 'c');   // inside a
  write(30 * 512, 4 * 512, 'd');
  write(20 * 512, 16 * 512, 'e');  // covers d entirely and the tail of b
  std::string out;
  ASSERT_THAT(drive->Read(0, 64 * 512, &out), IsOk());
  EXPECT_TRUE(out == expected);
  ASSERT_THAT(drive->Flush(), IsOk());
  ASSERT_THAT(drive->Read(0, 64 * 512, &out), IsOk());
  EXPECT_TRUE(out == expected);
}

TEST_F(DriveTest, BadSectorsPullAndThroughputAreInjectedAndCounted) {
  proto::DriveSpec s = *bay_->Get("d1");
  auto* bad = s.add_badranges();
  bad->set_firstlba(100);
  bad->set_count(8);
  s.set_pullafterbytes(1 << 20);
  s.set_throughputmbps(100);
  ASSERT_THAT(bay_->Update(s), IsOk());
  auto drive = *bay_->Open("d1");
  std::string out;
  EXPECT_THAT(drive->Read(99 * 512, 1024, &out), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("LBA 100")));
  EXPECT_THAT(drive->Write(107 * 512, std::string(512, 'x')), StatusIs(absl::StatusCode::kDataLoss));
  // 100 MB/s cap: a write lands in the drive's cache at once, a flush waits for the media to drain it, a read
  // waits for the media too.
  absl::Time t0 = clock_.Now();
  ASSERT_THAT(drive->Write(1000 * 512, std::string(512 * 1024, 'y')), IsOk());
  EXPECT_EQ(clock_.Now() - t0, absl::ZeroDuration());
  ASSERT_THAT(drive->Flush(), IsOk());
  EXPECT_NEAR(absl::ToDoubleSeconds(clock_.Now() - t0), 512.0 * 1024 / 100e6, 1e-6);
  t0 = clock_.Now();
  ASSERT_THAT(drive->Read(1000 * 512, 512 * 1024, &out), IsOk());
  EXPECT_NEAR(absl::ToDoubleSeconds(clock_.Now() - t0), 512.0 * 1024 / 100e6, 1e-6);
  EXPECT_THAT(drive->Write(2 << 20, std::string(1 << 20, 'z')),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("removed")));
  EXPECT_THAT(drive->Read(0, 512, &out), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(drive->injected_errors(), 4);
  drive.reset();
  EXPECT_THAT(bay_->Open("d1"), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("satasim attach")));
  EXPECT_FALSE(bay_->Get("d1")->attached());
}

TEST(SataSim, CommandLine) {
  std::string bay = ::vmb::testing::TempDir() + "/clibay";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"simulators/sata/satasim"});
    args.insert(args.end(), {"--bay", bay});
    return *process::RunCommand(args);
  };
  EXPECT_EQ(run({"create", "--name", "hdd1", "--model", "WDC WD40EFRX", "--serial", "WD-123", "--capacity", "4T",
                 "--form-factor", "3.5", "--media", "hdd", "--interface", "sata3"})
                .exit_code,
            0);
  EXPECT_EQ(run({"create", "--name", "usb1", "--model", "Ext", "--serial", "U1", "--capacity", "1T", "--form-factor",
                 "2.5", "--media", "hdd", "--interface", "usb"})
                .exit_code,
            0);
  process::CommandResult list = run({"list"});
  EXPECT_THAT(list.stdout_data, HasSubstr("WDC WD40EFRX"));
  EXPECT_THAT(list.stdout_data, HasSubstr("usb"));
  process::CommandResult id = run({"identify", "--name", "hdd1"});
  EXPECT_THAT(id.stdout_data, HasSubstr("sectors: 8589934592 x 512"));
  EXPECT_THAT(id.stdout_data, HasSubstr("7200 rpm"));
  process::CommandResult bad = run({"create", "--name", "x", "--model", "m", "--serial", "s", "--capacity", "1G",
                                    "--form-factor", "1.8", "--media", "ssd", "--interface", "sata3"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_data, HasSubstr("2.5 or 3.5"));
  EXPECT_EQ(run({"fault", "--name", "hdd1", "--bad-lba", "10:5", "--pull-after", "1G"}).exit_code, 0);
  process::CommandResult rot = run({"fault", "--name", "hdd1", "--rot-lba", "2048:8"});
  EXPECT_EQ(rot.exit_code, 0);
  EXPECT_THAT(rot.stdout_data, HasSubstr("1 bad range(s), 1 silently rotten range(s)"));
  process::CommandResult bad_rot = run({"fault", "--name", "hdd1", "--rot-lba", "2048"});
  EXPECT_EQ(bad_rot.exit_code, 2);
  EXPECT_THAT(bad_rot.stderr_data, HasSubstr("--rot-lba needs FIRST:COUNT"));
  DriveBay cli_bay(bay);
  proto::DriveSpec kept = *cli_bay.Get("hdd1");  // the refused command changed nothing
  ASSERT_EQ(kept.silentranges_size(), 1);
  EXPECT_EQ(kept.silentranges(0).firstlba(), 2048u);
  EXPECT_EQ(kept.silentranges(0).count(), 8u);
  EXPECT_EQ(kept.badranges_size(), 1);
  EXPECT_EQ(kept.pullafterbytes(), 1ll << 30);
  EXPECT_EQ(run({"detach", "--name", "hdd1"}).exit_code, 0);
  EXPECT_THAT(run({"list"}).stdout_data, HasSubstr("(pulled)"));
}

}  // namespace
}  // namespace vmb::sata
