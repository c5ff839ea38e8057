// The planner: what is already done and what remains. PlanRanges cuts the staged images into the ranges to ship;
// ReplayJournal turns a drive's journal into its DriveState; PlanDrives checks the chosen drives and replays each
// one's journal (<journal_dir>/<drive>.journal); the Ledger keeps, for the whole run, which ranges are shipped
// (durable on a drive, or all-zero: nothing to ship) and the queue of those still to ship that the drives' writers
// take from and give back to. Nothing here writes to a drive.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_PLANNER_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_PLANNER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/diskprep/diskprep.pb.h"
#include "offline_seed/diskprep/drive_state.h"
#include "offline_seed/drives/drive_source.h"

namespace vmb::offline {

// Every <staging>/images/*.vhd, by name, cut into ranges of at most manifest::kMaxRange bytes, in order; the blob of
// image N is "<container>/<job name>/N". kNotFound when the images folder is missing.
absl::StatusOr<std::vector<StagedRange>> PlanRanges(const std::string& staging, const proto::ImportJobRecord& job);

// Sets what `records` (a drive's journal, in order) say about the drive: its id (formatted), its ranges and where the
// next one goes, full, the manifest MD5, rejected; verified only when it was formatted and no range was journaled
// after the last "verified" (a later run that added data needs a new manifest and verify).
void ReplayJournal(const std::vector<proto::DiskPrepRecord>& records, DriveState& drive);

// Which ranges are shipped and which remain, shared by the drives' threads (thread-safe). Ranges are handed out as
// pointers into ranges(), valid while the Ledger lives.
class Ledger {
 public:
  explicit Ledger(std::vector<StagedRange> ranges);
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  const std::vector<StagedRange>& ranges() const { return ranges_; }
  uint64_t total_bytes() const { return total_; }

  // Ranges a journal says are durable on a drive (before any copy).
  void MarkJournaled(const std::vector<proto::DiskPrepRecord>& ranges);
  // The queue: every range not done, in order. False when it is empty.
  bool QueueRemaining();
  // The next range in the queue, or nullptr.
  const StagedRange* Take();
  // Ranges taken but not written, back to the front of the queue in this order (for this drive or another).
  void GiveBack(const std::vector<const StagedRange*>& ranges);
  // Ranges made durable on a drive; returns the bytes done so far.
  uint64_t MarkWritten(const std::vector<proto::DiskPrepRecord>& ranges);
  // An all-zero range: nothing to ship.
  void MarkEmpty(const StagedRange& range);
  // A rejected drive's ranges: to ship again.
  void Forget(const std::vector<proto::DiskPrepRecord>& ranges);

  bool IsDone(const std::string& blob, uint64_t offset) const;
  uint64_t done_bytes() const;
  // The bytes of the ranges not done.
  uint64_t RemainingBytes() const;

 private:
  const std::vector<StagedRange> ranges_;
  uint64_t total_ = 0;
  mutable std::mutex mu_;
  std::set<std::string> done_;  // RangeKey of each range done
  uint64_t done_bytes_ = 0;
  std::deque<const StagedRange*> queue_;
};

struct PlannedDrives {
  std::vector<std::unique_ptr<DriveState>> drives;  // in the order chosen; drives rejected in an earlier run left out
  bool resumed = false;                             // a chosen drive had a journal already
};

// Each of `names` from `source`: refused (kFailedPrecondition, with its model, serial and DriveRefusal) when it is
// attached but cannot be used, or when it reports the serial number of another chosen drive; its journal opened (or
// created) and replayed, its journaled ranges marked in `ledger`; and its device opened (kUnavailable, with the
// reattach hint, when it cannot be). Formats nothing.
absl::StatusOr<PlannedDrives> PlanDrives(DriveEnumerator& source, const std::vector<std::string>& names,
                                         const std::string& journal_dir, Ledger& ledger);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_PLANNER_H_
