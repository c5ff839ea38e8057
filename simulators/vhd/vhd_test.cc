#include "simulators/vhd/vhd.h"

#include <unistd.h>

#include <cstdlib>

#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/io/testing/block_device_contract.h"
#include "common/process/subprocess.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::vhd {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

std::string Tmp(const std::string& name) { return ::vmb::testing::TempDir() + "/" + name; }

bool HaveQemuImg() {
  absl::StatusOr<process::CommandResult> r = process::RunCommand({"qemu-img", "--version"});
  return r.ok() && r->exit_code == 0;
}

process::CommandResult Exec(const std::vector<std::string>& argv) {
  absl::StatusOr<process::CommandResult> r = process::RunCommand(argv);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.value_or(process::CommandResult{});
}

// qemu-img as an independent reader: opens the file as vpc and converts it to raw at the footer's current size.
void ExpectQemuReadsSame(const std::string& path, VhdFile& ours) {
  // The judge is required: without it the test fails (tools/setup.sh installs qemu-utils), never skips.
  ASSERT_TRUE(HaveQemuImg()) << "qemu-img not installed: run tools/setup.sh (it installs qemu-utils)";
  process::CommandResult info = Exec({"qemu-img", "info", "--output=json", "-f", "vpc", path});
  EXPECT_EQ(info.exit_code, 0) << info.stderr_data;
  EXPECT_THAT(info.stdout_data, HasSubstr("\"format\": \"vpc\""));
  // The vpc driver has no consistency checker: `check` must open the image and say so (63), not fail to open it.
  process::CommandResult check = Exec({"qemu-img", "check", "-f", "vpc", path});
  EXPECT_TRUE(check.exit_code == 0 || check.exit_code == 63) << check.stderr_data;
  EXPECT_THAT(check.stderr_data, ::testing::Not(HasSubstr("Could not open")));
  std::string raw = path + ".raw";
  ::unlink(raw.c_str());
  process::CommandResult conv =
      Exec({"qemu-img", "convert", "--image-opts", "driver=vpc,force_size_calc=current_size,file.filename=" + path,
            "-O", "raw", raw});
  ASSERT_EQ(conv.exit_code, 0) << conv.stderr_data;
  std::string theirs = *file::ReadFile(raw);
  std::string mine;
  ASSERT_THAT(ours.Read(0, ours.size(), &mine), IsOk());
  ASSERT_EQ(theirs.size(), mine.size());
  EXPECT_TRUE(theirs == mine) << "qemu-img reads different bytes";
}

class VhdFormatTest : public ::testing::TestWithParam<DiskType> {};

TEST_P(VhdFormatTest, WritesReadBackAndQemuAgrees) {
  std::string path = Tmp(GetParam() == DiskType::kFixed ? "fixed.vhd" : "dynamic.vhd");
  ::unlink(path.c_str());
  const uint64_t size = 9 * 1024 * 1024 + 512 * 3;  // not a CHS multiple, not a block multiple
  absl::StatusOr<std::unique_ptr<VhdFile>> vhd = VhdFile::Create(path, GetParam(), size);
  ASSERT_TRUE(vhd.ok()) << vhd.status();
  struct Piece {
    uint64_t offset;
    size_t length;
  };
  // Unaligned, spanning the 2 MiB block boundary, the very end, and sparse gaps between.
  const Piece pieces[] = {{0, 512}, {1000, 3000}, {(2u << 20) - 700, 5000}, {size - 1234, 1234}, {6u << 20, 65536}};
  std::string expected(size, '\0');
  for (const Piece& p : pieces) {
    std::string data = crypto::SecureRandom().Bytes(p.length);
    ASSERT_THAT((*vhd)->Write(p.offset, data), IsOk());
    expected.replace(p.offset, p.length, data);
  }
  ASSERT_THAT((*vhd)->Flush(), IsOk());
  std::string back;
  ASSERT_THAT((*vhd)->Read(0, size, &back), IsOk());
  EXPECT_TRUE(back == expected);
  EXPECT_THAT((*vhd)->Write(size - 10, std::string(11, 'x')), StatusIs(absl::StatusCode::kOutOfRange));

  // Reopen from disk: the footer, header and BAT are read back and validated.
  vhd->reset();
  absl::StatusOr<std::unique_ptr<VhdFile>> again = VhdFile::Open(path);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_THAT((*again)->Read(0, size, &back), IsOk());
  EXPECT_TRUE(back == expected);
  Info info = (*again)->GetInfo();
  EXPECT_EQ(info.size, size);
  if (GetParam() == DiskType::kDynamic) {
    EXPECT_EQ(info.blocks_total, 5u);
    EXPECT_EQ(info.blocks_allocated, 4u);  // blocks 0, 1, 3, 4; block 2 (4-6 MiB) stays sparse
  }
  ExpectQemuReadsSame(path, **again);
}

// The BlockDevice contract every implementation keeps (common/io/testing), on both VHD types, new and reopened.
TEST_P(VhdFormatTest, KeepsTheBlockDeviceContract) {
  const std::string path = ::vmb::testing::PerTestDir() + "/contract.vhd";
  io::testing::ContractOptions sectors;
  sectors.alignment = 512;
  {
    absl::StatusOr<std::unique_ptr<VhdFile>> vhd = VhdFile::Create(path, GetParam(), 64 * 4096);
    ASSERT_TRUE(vhd.ok()) << vhd.status();
    io::testing::ExpectBlockDeviceContract(**vhd, sectors);
  }
  absl::StatusOr<std::unique_ptr<VhdFile>> reopened = VhdFile::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  sectors.fresh_reads_zeros = false;  // the first pass wrote it
  io::testing::ExpectBlockDeviceContract(**reopened, sectors);
}

INSTANTIATE_TEST_SUITE_P(Types, VhdFormatTest, ::testing::Values(DiskType::kFixed, DiskType::kDynamic),
                         [](const auto& info) { return info.param == DiskType::kFixed ? "fixed" : "dynamic"; });

TEST(Vhd, DynamicStaysSparseAndZeroWritesAllocateNothing) {
  std::string path = Tmp("sparse.vhd");
  auto vhd = *VhdFile::Create(path, DiskType::kDynamic, 64u << 20);
  ASSERT_THAT(vhd->Write(10u << 20, std::string(1 << 20, '\0')), IsOk());
  EXPECT_EQ(vhd->GetInfo().blocks_allocated, 0u);
  ASSERT_THAT(vhd->Write(33u << 20, "x"), IsOk());
  EXPECT_EQ(vhd->GetInfo().blocks_allocated, 1u);
  EXPECT_LT(vhd->GetInfo().file_size, 3u << 20);
  std::string out;
  ASSERT_THAT(vhd->Read((33u << 20) - 1, 3, &out), IsOk());
  EXPECT_EQ(out, std::string("\0x\0", 3));
}

TEST(Vhd, ReadsWhatQemuWrites) {
  ASSERT_TRUE(HaveQemuImg()) << "qemu-img not installed: run tools/setup.sh (it installs qemu-utils)";
  std::string raw = Tmp("q.raw"), path = Tmp("q.vhd");
  std::string data = crypto::SecureRandom().Bytes(5u << 20);
  data.replace(1u << 20, 1u << 20, std::string(1u << 20, '\0'));
  ASSERT_THAT(file::WriteFileAtomic(raw, data, 0644), IsOk());
  ::unlink(path.c_str());
  for (const char* sub : {"dynamic", "fixed"}) {
    ::unlink(path.c_str());
    process::CommandResult r =
        Exec({"qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", std::string("subformat=") + sub, raw, path});
    ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
    absl::StatusOr<std::unique_ptr<VhdFile>> vhd = VhdFile::Open(path, false);
    ASSERT_TRUE(vhd.ok()) << vhd.status();
    ASSERT_GE((*vhd)->size(), data.size());  // qemu rounds up to whole CHS geometry
    std::string back;
    ASSERT_THAT((*vhd)->Read(0, data.size(), &back), IsOk());
    EXPECT_TRUE(back == data) << sub;
  }
}

TEST(Vhd, CorruptionIsNamed) {
  std::string path = Tmp("corrupt.vhd");
  { ASSERT_TRUE(VhdFile::Create(path, DiskType::kDynamic, 4u << 20).ok()); }
  std::string bytes = *file::ReadFile(path);
  std::string bad = bytes;
  bad[bad.size() - 512 + 50] ^= 1;  // inside the footer (current size), checksum no longer matches
  ASSERT_THAT(file::WriteFileAtomic(path, bad, 0644), IsOk());
  EXPECT_THAT(VhdFile::Open(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
  bad = bytes;
  bad[512 + 40] ^= 1;  // dynamic header
  ASSERT_THAT(file::WriteFileAtomic(path, bad, 0644), IsOk());
  EXPECT_THAT(VhdFile::Open(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("dynamic VHD header checksum")));
  ASSERT_THAT(file::WriteFileAtomic(path, std::string(4096, 'z'), 0644), IsOk());
  EXPECT_THAT(VhdFile::Open(path), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("conectix")));
}

TEST(Vhd, GeometryFollowsTheSpec) {
  Geometry g = GeometryForSize(10u << 20);
  EXPECT_EQ(g.cylinders, 301);
  EXPECT_EQ(g.heads, 4);
  EXPECT_EQ(g.sectors_per_track, 17);
  g = GeometryForSize(127ull << 30);  // Azure's classic OS disk size
  EXPECT_EQ(g.heads, 16);
  EXPECT_EQ(g.sectors_per_track, 255);
}

TEST(VhdTool, CommandLine) {
  std::string tool = "simulators/vhd/vhdtool", disk = Tmp("tool.vhd"), in = Tmp("tool.in");
  ::unlink(disk.c_str());
  ASSERT_THAT(file::WriteFileAtomic(in, "hello vhd", 0644), IsOk());
  EXPECT_EQ(Exec({tool, "create", "--format", "dynamic", "--size", "8M", disk}).exit_code, 0);
  EXPECT_EQ(Exec({tool, "write", "--offset", "4194300", "--input", in, disk}).exit_code, 0);
  process::CommandResult read = Exec({tool, "read", "--offset", "4194300", "--length", "9", disk});
  EXPECT_EQ(read.stdout_data, "hello vhd");
  process::CommandResult info = Exec({tool, "info", "--json", disk});
  EXPECT_THAT(info.stdout_data, HasSubstr("\"format\":\"dynamic\""));
  EXPECT_THAT(info.stdout_data, HasSubstr("\"blocksAllocated\":2"));
  process::CommandResult bad = Exec({tool, "create", "--format", "weird", "--size", "8M", Tmp("x.vhd")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.stderr_data, HasSubstr("fixed or dynamic"));
  process::CommandResult beyond = Exec({tool, "read", "--offset", "8M", "--length", "1", disk});
  EXPECT_NE(beyond.exit_code, 0);
  EXPECT_THAT(beyond.stderr_data, HasSubstr("beyond the end"));
}

}  // namespace
}  // namespace vmb::vhd
