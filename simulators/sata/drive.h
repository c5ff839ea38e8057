// Simulated SATA drives in a drive bay (a folder): a sparse image per drive plus its description and faults in
// <name>.drive.json. A drive is a BlockDevice addressed in whole logical sectors, with a volatile write cache
// (writes since the last Flush that it has not destaged yet are lost on PowerCut, as on a real drive), ATA IDENTIFY
// data, and faults on demand: bad sector ranges (reads and writes there fail with an I/O error), silently rotten ones
// (reads there return a flipped bit and no error), a pull after N written bytes (the drive is gone until
// re-attached), and a throughput cap (time passes on an injected clock). Every injected failure is counted, so a test
// can insist that none was reported as success.
#ifndef VMBACKUP_SIMULATORS_SATA_DRIVE_H_
#define VMBACKUP_SIMULATORS_SATA_DRIVE_H_

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/concurrent/mutex.h"
#include "common/io/block_device.h"
#include "common/time/clock.h"
#include "simulators/sata/drive.pb.h"
#include "simulators/sata/identify.h"

namespace vmb::sata {

class SataDrive : public io::BlockDevice {
 public:
  ~SataDrive() override;

  uint64_t size() const override { return spec_.capacity(); }
  // `offset` and the length must be multiples of the logical sector size (kInvalidArgument otherwise).
  absl::Status Read(uint64_t offset, uint64_t length, std::string* out) override;
  absl::Status Write(uint64_t offset, absl::string_view data) override;
  absl::Status Flush() override;

  // Drops the volatile cache: every write since the last successful Flush that is still in it is lost (the cache
  // destages to the image once it holds 16 MiB, so a cut may keep part of what was never flushed, as on a real drive).
  void PowerCut();
  std::string Identify() const;
  const proto::DriveSpec& spec() const { return spec_; }
  int injected_errors() const;

 private:
  friend class DriveBay;
  struct FreeDeleter {
    void operator()(char* p) const { std::free(p); }
  };
  SataDrive(std::string bay, proto::DriveSpec spec, int fd, Clock& clock);
  absl::Status Check(uint64_t offset, uint64_t length);
  absl::Status ReadAt(uint64_t offset, uint64_t length, std::string* out);
  absl::Status WriteAt(uint64_t offset, absl::string_view data);
  // Writes the cache's extents to the image and empties it; with start_writeback, the kernel starts writing them to
  // the disk without waiting (sync_file_range), as a drive's cache drains to its media.
  absl::Status DestageLocked(bool start_writeback) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static absl::Status AllocateAligned(std::unique_ptr<char, FreeDeleter>* buf);
  // A throughput cap modelled as the drive's media: writes land in its cache at once and the media drains them at
  // the cap (a write waits only while more than kCacheBytes are queued), reads wait for the media, Flush waits until
  // the media holds everything. So the cap bounds the drive the way a real one is bounded and overlaps with the
  // host's own work.
  absl::Duration MediaTime(uint64_t bytes) const;
  absl::Duration QueueOnMedia(uint64_t bytes);  // queues `bytes` on the media; returns how long until it is done
  void ThrottleWrite(uint64_t bytes);
  void ThrottleRead(uint64_t bytes);
  void ThrottleFlush();
  static constexpr uint64_t kCacheBytes = 64u << 20;
  static constexpr size_t kDirectAlign = 4096, kDirectChunk = 4u << 20;

  std::string bay_;
  proto::DriveSpec spec_;
  int fd_;
  int direct_fd_ = -1;  // the image for direct I/O, -1 where unsupported
  std::unique_ptr<char, FreeDeleter> direct_buf_ ABSL_GUARDED_BY(mu_);  // aligned bounce buffer for it
  Mutex read_mu_;
  std::unique_ptr<char, FreeDeleter> read_buf_ ABSL_GUARDED_BY(read_mu_);  // and one for reads
  Clock& clock_;
  mutable Mutex mu_;
  std::map<uint64_t, std::string> cache_ ABSL_GUARDED_BY(mu_);  // unflushed, non-overlapping extents by offset
  uint64_t cached_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  bool removed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time media_busy_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int injected_ ABSL_GUARDED_BY(mu_) = 0;
};

class DriveBay {
 public:
  explicit DriveBay(std::string dir, Clock& clock = RealClock()) : dir_(std::move(dir)), clock_(clock) {}

  // Creates a drive (the sparse image and its description). kAlreadyExists for a name in use.
  absl::Status Create(const proto::DriveSpec& spec);
  // Every drive in the bay, attached or not, by name.
  absl::StatusOr<std::vector<proto::DriveSpec>> List() const;
  // kNotFound for an unknown name; kUnavailable for a drive that was pulled (re-attach it first).
  absl::StatusOr<std::unique_ptr<SataDrive>> Open(const std::string& name);
  absl::Status Update(const proto::DriveSpec& spec);  // faults, attachment
  absl::StatusOr<proto::DriveSpec> Get(const std::string& name) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  Clock& clock_;
};

IdentifyInfo IdentifyFor(const proto::DriveSpec& spec);

}  // namespace vmb::sata

#endif  // VMBACKUP_SIMULATORS_SATA_DRIVE_H_
