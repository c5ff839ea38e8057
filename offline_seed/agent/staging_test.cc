#include "offline_seed/agent/staging.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/agent/tree.h"
#include "offline_seed/agent/tree_testing.h"
#include "offline_seed/testing/initiate_options.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

std::string Tmp(const std::string& n) {
  return vmb::testing::TempPath(::testing::UnitTest::GetInstance()->current_test_info()->name() + n);
}

void Write(const std::string& path, const std::string& data, mode_t mode = 0644) {
  ASSERT_THAT(file::WriteFileAtomic(path, data, mode), IsOk());
}

InitiateOptions Options(const std::string& src, const std::string& staging) {
  return testing::TestInitiateOptions({src}, staging);  // small images, so several are used
}

TEST(Staging, RoundTripKeepsEverythingAndCompressesAndDedupes) {
  std::string src = Tmp("src"), staging = Tmp("staging"), out = Tmp("out");
  ASSERT_THAT(file::MakeDirs(src + "/sub"), IsOk());
  ASSERT_THAT(file::MakeDirs(src + "/emptydir"), IsOk());
  Write(src + "/big.bin", crypto::SecureRandom().Bytes(5u << 20));
  std::string block = crypto::SecureRandom().Bytes(300000);
  Write(src + "/repeat.bin", block + block + block + block);  // dedupes
  Write(src + "/text.txt", std::string(3u << 20, 'a'));       // compresses
  Write(src + "/empty", "");
  Write(src + "/d\xC3\xA9j\xC3\xA0 v\xC3\xBC.txt", "non-ASCII name", 0640);
  Write(src + "/\xff\xfe.bin", "not UTF-8 at all");
  Write(src + "/sub/deep.txt", "deep");
  ASSERT_EQ(::symlink("sub/deep.txt", (src + "/link").c_str()), 0);
  timespec times[2] = {{1600000000, 123456789}, {1600000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/empty").c_str(), times, 0), 0);

  absl::StatusOr<proto::ImportJobRecord> job = InitiateOfflineBackup(Options(src, staging));
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->sourcebytes(), (5u << 20) + 1200000 + (3u << 20) + 14 + 16 + 4);
  EXPECT_LT(job->stagedbytes(), job->sourcebytes() * 7 / 10);  // the text compresses, the repeats dedupe
  EXPECT_LT(job->uniquechunks(), job->chunks());
  EXPECT_EQ(job->state(), "Staged");
  EXPECT_EQ(ReadStagedJob(staging)->jobname(), "seedjob1");
  struct stat st;
  ASSERT_EQ(::stat((staging + "/images/image-0001.vhd").c_str(), &st), 0);  // several images
  EXPECT_EQ(st.st_size % 512, 0);
  absl::StatusOr<std::vector<std::string>> staged = file::ListDir(staging);
  ASSERT_THAT(staged.status(), IsOk());
  std::sort(staged->begin(), staged->end());
  EXPECT_EQ(*staged, (std::vector<std::string>{"catalogue.json", "images", "offline-job.json"}))
      << "nothing else is shipped (the chunk index is a temporary file elsewhere)";

  ASSERT_THAT(RestoreFromStaging(staging, out), IsOk());
  EXPECT_EQ(testing::ExpectSameTree(src, out + "/0"), 11);  // every entry compared
  EXPECT_EQ(*file::ReadFile(out + "/0/sub/deep.txt"), "deep");
  EXPECT_EQ(*file::ReadFile(out + "/0/text.txt"), std::string(3u << 20, 'a'));

  // A second initiate on the same staging location is refused; the staged data is untouched.
  EXPECT_THAT(InitiateOfflineBackup(Options(src, staging)), StatusIs(absl::StatusCode::kAlreadyExists));
}

// The source computer's record of the job it waits for: the staging location's absolute path, 0600, in a folder
// made 0700; none recorded is kNotFound.
TEST(Staging, TheWaitingImportIsRecordedAbsoluteAndPrivate) {
  const std::string dir = vmb::testing::PerTestDir();
  EXPECT_THAT(WaitingImport(dir + "/agent").status(), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(file::MakeDirs(dir + "/staging"), IsOk());
  ASSERT_EQ(::chdir(dir.c_str()), 0);
  ASSERT_THAT(RecordWaitingImport(dir + "/agent", "staging"), IsOk());
  absl::StatusOr<std::string> recorded = WaitingImport(dir + "/agent");
  ASSERT_THAT(recorded.status(), IsOk());
  char* real = ::realpath((dir + "/staging").c_str(), nullptr);
  EXPECT_EQ(*recorded, real);
  std::free(real);
  struct stat st;
  ASSERT_EQ(::stat((dir + "/agent/pending-import").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir + "/agent").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(Staging, BadInputAndDamageAreNamed) {
  std::string src = Tmp("src"), staging = Tmp("staging");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  Write(src + "/f", crypto::SecureRandom().Bytes(100000));
  EXPECT_THAT(InitiateOfflineBackup(Options(src, src + "/staging")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside the source")));
  EXPECT_THAT(InitiateOfflineBackup(Options(src + "/f", staging)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a folder")));
  EXPECT_THAT(ReadStagedJob(Tmp("nowhere")), StatusIs(absl::StatusCode::kNotFound, HasSubstr("seedagent initiate")));
  InitiateOptions o = Options(src, staging);
  o.job.clear_container();
  EXPECT_THAT(InitiateOfflineBackup(o), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("container")));

  ASSERT_TRUE(InitiateOfflineBackup(Options(src, staging)).ok());
  std::string image = staging + "/images/image-0000.vhd";
  std::string bytes = *file::ReadFile(image);
  bytes[100] ^= 0x5a;
  Write(image, bytes, 0600);
  EXPECT_THAT(RestoreFromStaging(staging, Tmp("out")), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("damaged")));
}

// A staging location too small for the source: refused before anything is written, with what is free, what is
// needed and the way out. Holes need no space: an 8 TB sparse file with no data fits.
TEST(Staging, AFullStagingLocationIsRefusedBeforeWriting) {
  const std::string src = Tmp("-src"), staging = Tmp("-staging");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  int fd = ::open((src + "/huge.vhdx").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(8'000'000'000'000ull)), 0);
  ::close(fd);
  Write(src + "/data.bin", crypto::SecureRandom().Bytes(20u << 20));
  InitiateOptions o = Options(src, staging);
  o.free_space = [](const std::string&) -> uint64_t { return 30'000'000; };
  absl::StatusOr<proto::ImportJobRecord> r = InitiateOfflineBackup(o);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("choose a larger staging location")));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("has 0.0 GB free; up to 0.0 GB may be needed"));
  EXPECT_FALSE(file::ReadFile(staging + "/offline-job.json").ok());
  EXPECT_FALSE(file::ReadFile(staging + "/catalogue.json").ok());
  o.free_space = [](const std::string&) -> uint64_t { return 50'000'000; };  // enough for the data, not the holes
  r = InitiateOfflineBackup(o);
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->sourcebytes(), 8'000'000'000'000ull + (20u << 20));
  EXPECT_LT(r->stagedbytes(), 22u << 20);
}

// Sparse files are read by their data extents only: the holes are neither read nor stored, and a restore leaves
// them holes; the extents are in the entry.
TEST(Capture, SparseFilesStoreTheirDataOnly) {
  const std::string src = Tmp("-src"), staging = Tmp("-staging"), out = Tmp("-out");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  const std::string path = src + "/vm.img";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  const uint64_t size = 4ull << 30;
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  const std::string data = crypto::SecureRandom().Bytes(1u << 20);
  for (uint64_t at : {uint64_t{0}, size / 2, size - (1u << 20)}) {
    ASSERT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(at)), static_cast<ssize_t>(data.size()));
  }
  ::close(fd);
  absl::StatusOr<proto::ImportJobRecord> job = InitiateOfflineBackup(Options(src, staging));
  ASSERT_THAT(job.status(), IsOk());
  EXPECT_EQ(job->sourcebytes(), size);
  EXPECT_LT(job->stagedbytes(), 4u << 20);
  ASSERT_THAT(RestoreFromStaging(staging, out), IsOk());
  struct stat st;
  ASSERT_EQ(::stat((out + "/0/vm.img").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), size);
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, 4u << 20) << "the holes were filled";
  fd = ::open((out + "/0/vm.img").c_str(), O_RDONLY);
  std::string back(data.size(), '\0');
  ASSERT_EQ(::pread(fd, back.data(), back.size(), static_cast<off_t>(size / 2)), static_cast<ssize_t>(back.size()));
  EXPECT_TRUE(back == data);
  ASSERT_EQ(::pread(fd, back.data(), 4096, static_cast<off_t>(size / 4)), 4096);
  EXPECT_EQ(back.substr(0, 4096), std::string(4096, '\0'));
  ::close(fd);
}

// Times before 1970 with nanoseconds and after 2262 (past a 64-bit nanosecond count) come back exactly.
TEST(Capture, TimesOverTheirFullRangeComeBack) {
  const std::string src = Tmp("-src"), staging = Tmp("-staging"), out = Tmp("-out");
  ASSERT_THAT(file::MakeDirs(src), IsOk());
  Write(src + "/old", "1900");
  Write(src + "/future", "2400");
  timespec old_t[2] = {{-2208988800 + 1, 123456789}, {-2208988800 + 1, 123456789}};  // 1900-01-01T00:00:01.123456789
  timespec future_t[2] = {{13569465600, 5}, {13569465600, 5}};                       // 2400-01-01T00:00:00.000000005
  ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/old").c_str(), old_t, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, (src + "/future").c_str(), future_t, 0), 0);
  ASSERT_THAT(InitiateOfflineBackup(Options(src, staging)).status(), IsOk());
  ASSERT_THAT(RestoreFromStaging(staging, out), IsOk());
  struct stat a, b;
  for (const char* name : {"old", "future"}) {
    ASSERT_EQ(::stat((src + "/" + name).c_str(), &a), 0);
    ASSERT_EQ(::stat((out + "/0/" + name).c_str(), &b), 0);
    EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec) << name;
    EXPECT_EQ(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec) << name;
  }
  EXPECT_EQ(a.st_mtim.tv_sec, 13569465600);
}

// A relative --source is recorded as the absolute, canonical path (a scheduled backup runs from anywhere).
TEST(Capture, SourcesAreRecordedAbsolute) {
  const std::string base = Tmp("-base");
  ASSERT_THAT(file::MakeDirs(base + "/src"), IsOk());
  Write(base + "/src/f", "x");
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(base.c_str()), 0);
  absl::StatusOr<proto::ImportJobRecord> job = InitiateOfflineBackup(Options("./src/../src", base + "/staging"));
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_THAT(job.status(), IsOk());
  char real[4096];
  ASSERT_NE(::realpath((base + "/src").c_str(), real), nullptr);
  EXPECT_THAT(job->sources(), ::testing::ElementsAre(std::string(real)));
}

}  // namespace
}  // namespace vmb::offline
