// FIFREEZE/FITHAW on a real file system: an ext4 image mounted on a loop device. Needs root, mkfs.ext4 and mount;
// the target is tagged no-sandbox so the loop mount is possible. As root (CI), anything that stops the test from
// running is a failure. Not as root it fails too, saying why (it never passes unrun): tools/test.sh leaves
// requires-root tests out when it does not run as root.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdlib>
#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "gtest/gtest.h"
#include "snapshot/fsfreeze/holder.h"
#include "snapshot/fsfreeze/syscalls.h"

namespace vmb::snapshot::fsfreeze {
namespace {

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
  auto mkfs = process::RunCommand({"sh", "-c", "PATH=$PATH:/usr/sbin:/sbin; truncate -s 64M " + image + " && mkfs.ext4 -q -F " + image});
  if (!mkfs.ok() || mkfs->exit_code != 0) SKIP_OR_FAIL("mkfs.ext4 is not available");
  auto mount = process::RunCommand({"sh", "-c", "PATH=$PATH:/usr/sbin:/sbin; mount -o loop " + image + " " + mnt});
  if (!mount.ok() || mount->exit_code != 0) {
    SKIP_OR_FAIL("cannot mount a loop device here: " << (mount.ok() ? mount->stderr_data : mount.status().ToString()));
  }
  struct Unmount {
    std::string mnt;
    std::string dir;
    ~Unmount() {
      process::RunCommand({"sh", "-c", "PATH=$PATH:/usr/sbin:/sbin; fsfreeze -u " + mnt + " 2>/dev/null; umount -l " +
                                           mnt + "; rm -rf " + dir})
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

  // A writer in another process must block while frozen, and finish once thawed.
  std::atomic<bool> done{false};
  int writer_exit = -1;
  std::thread writer([&] {
    auto r = process::RunCommand({"sh", "-c", "echo x > " + mnt + "/f && sync " + mnt + "/f"});
    writer_exit = r.ok() ? r->exit_code : -1;
    done = true;
  });
  absl::SleepFor(absl::Milliseconds(1500));
  EXPECT_FALSE(done.load()) << "the write completed although the file system was frozen";
  absl::Time thaw_at = absl::Now();
  (void)!::write(to_holder[1], "thaw\n", 5);
  holder.join();
  writer.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(writer_exit, 0);
  EXPECT_LT(absl::Now() - thaw_at, absl::Seconds(5));
}

}  // namespace
}  // namespace vmb::snapshot::fsfreeze
