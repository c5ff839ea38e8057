// FIFREEZE/FITHAW on a real file system: an ext4 image mounted on a loop device. Needs root, mkfs.ext4 and mount;
// the target is tagged no-sandbox so the loop mount is possible. As root (CI), anything that stops the test from
// running is a failure. Not as root it fails too, saying why (it never passes unrun): tools/test.sh leaves
// requires-root tests out when it does not run as root.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "gtest/gtest.h"
#include "snapshot/fsfreeze/holder.h"
#include "snapshot/fsfreeze/syscalls.h"

namespace vmb::snapshot::fsfreeze {
namespace {

// The state letter of thread `tid` of this process (from /proc/self/task/<tid>/stat), or 0 when unknown.
char ThreadState(pid_t tid) {
  absl::StatusOr<std::string> stat = file::ReadFile(absl::StrCat("/proc/self/task/", tid, "/stat"));
  if (!stat.ok()) return 0;
  size_t paren = stat->rfind(')');
  return paren == std::string::npos || paren + 2 >= stat->size() ? 0 : (*stat)[paren + 2];
}

#define SKIP_OR_FAIL(why) FAIL() << why << " (leave requires-root tests out with --test_tag_filters=-requires-root)"

TEST(RealFreeze, WritesBlockWhileFrozenAndResumeAfterThaw) {
  if (::geteuid() != 0) SKIP_OR_FAIL("the test is not running as root");
  // The image and its mount live outside Bazel's output base and test folders (/run): a mount inside them would
  // break the bind mounts of sandboxed actions running beside this test.
  char dir_template[] = "/run/vmbackup-realfreeze.XXXXXX";
  const char* made = ::mkdtemp(dir_template);
  if (made == nullptr) SKIP_OR_FAIL("cannot make a folder in /run");
  std::string dir = made;
  std::string image = dir + "/fs.img", mnt = dir + "/mnt";
  ASSERT_TRUE(file::MakeDirs(mnt).ok());
  auto mkfs = process::RunCommand(
      {"sh", "-c", "PATH=$PATH:/usr/sbin:/sbin; truncate -s 64M " + image + " && mkfs.ext4 -q -F " + image});
  if (!mkfs.ok() || mkfs->exit_code != 0) SKIP_OR_FAIL("mkfs.ext4 is not available");
  auto mount = process::RunCommand({"sh", "-c", "PATH=$PATH:/usr/sbin:/sbin; mount -o loop " + image + " " + mnt});
  if (!mount.ok() || mount->exit_code != 0) {
    SKIP_OR_FAIL("cannot mount a loop device here: " << (mount.ok() ? mount->stderr_data : mount.status().ToString()));
  }
  struct Unmount {
    std::string mnt;
    std::string dir;
    ~Unmount() {
      process::RunCommand(
          {"sh", "-c",
           "PATH=$PATH:/usr/sbin:/sbin; fsfreeze -u " + mnt + " 2>/dev/null; umount -l " + mnt + "; rm -rf " + dir})
          .IgnoreError();
    }
  } unmount{mnt, dir};

  auto sys = RealFreezeSyscalls();
  HolderOptions o;
  o.mounts = {mnt};
  o.lock_file = dir + "/lock";
  o.timeout = absl::Seconds(20);
  int to_holder[2], from_holder[2];
  ASSERT_EQ(::pipe(to_holder), 0);
  ASSERT_EQ(::pipe(from_holder), 0);
  std::thread holder([&] { RunHolder(*sys, o, to_holder[0], from_holder[1]); });
  char buf[16] = {0};
  ASSERT_GT(::read(from_holder[0], buf, 7), 0);
  EXPECT_EQ(std::string(buf, 6), "frozen");

  // Frozen for the kernel: a second FIFREEZE is refused with EBUSY.
  absl::StatusOr<int> probe = sys->Open(mnt);
  ASSERT_TRUE(probe.ok()) << probe.status();
  absl::Status again = sys->Freeze(*probe, mnt);
  EXPECT_FALSE(again.ok()) << "FIFREEZE succeeded on a file system the holder froze";
  sys->Close(*probe);

  // A writer must block while frozen, and finish once thawed. It is a thread of this process so that its state can
  // be read: it waits until the writer sleeps in the kernel ('D', on the freeze) or finishes, instead of guessing how
  // long a write takes.
  std::atomic<bool> done{false};
  std::atomic<pid_t> writer_tid{0};
  bool writer_ok = false;
  std::thread writer([&] {
    writer_tid = static_cast<pid_t>(::syscall(SYS_gettid));
    int fd = ::open((mnt + "/f").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    writer_ok = fd >= 0 && ::write(fd, "x\n", 2) == 2 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    done = true;
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!done && (writer_tid == 0 || ThreadState(writer_tid) != 'D') && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));  // the kernel gives no notice when a thread blocks
  }
  EXPECT_FALSE(done.load()) << "the write completed although the file system was frozen";
  EXPECT_EQ(ThreadState(writer_tid), 'D') << "the writer is not blocked in the kernel";
  absl::Time thaw_at = absl::Now();
  (void)!::write(to_holder[1], "thaw\n", 5);
  holder.join();
  writer.join();
  EXPECT_TRUE(done.load());
  EXPECT_TRUE(writer_ok);
  EXPECT_LT(absl::Now() - thaw_at, absl::Seconds(5));
}

}  // namespace
}  // namespace vmb::snapshot::fsfreeze
