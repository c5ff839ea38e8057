// A guest application whose transactions span two disks: each transaction writes its data record to the data disk,
// then its commit record (with the data's MD5) to the log disk. It is a VSS writer: on flush-and-hold it lets the
// transaction in flight finish and holds new ones until thaw, so a snapshot taken while frozen never contains half
// a transaction. CheckConsistency reads two disk images and finds any torn transaction.
#ifndef VMBACKUP_SIMULATORS_VSS_WORKLOAD_H_
#define VMBACKUP_SIMULATORS_VSS_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/concurrent/mutex.h"
#include "common/io/block_device.h"
#include "simulators/vss/vss.h"

namespace vmb::vss {

struct WorkloadLayout {
  uint64_t first_byte = 1u << 20;  // records live in [first_byte, first_byte + slots * 512) on both disks
  uint64_t slots = 1024;
};

class TwoDiskWorkload : public Writer {
 public:
  TwoDiskWorkload(io::BlockDevice* log_disk, io::BlockDevice* data_disk, WorkloadLayout layout = {});
  ~TwoDiskWorkload() override;

  std::string name() const override { return "TwoDiskWorkload"; }
  absl::Status OnPrepare() override { return absl::OkStatus(); }
  absl::Status OnFreeze() override;
  absl::Status OnThaw() override;

  void Start();
  // Stops and returns the first write error, if any.
  absl::Status Stop();
  uint64_t committed();
  // Called between the data write and the log write of every transaction (test hook for torn snapshots).
  void set_between_writes_hook(std::function<void(uint64_t id)> hook) { hook_ = std::move(hook); }

 private:
  void Loop();

  io::BlockDevice* log_disk_;
  io::BlockDevice* data_disk_;
  WorkloadLayout layout_;
  std::function<void(uint64_t)> hook_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  Mutex mu_;
  CondVar cv_;  // held_ or in_txn_ changed
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  bool in_txn_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t committed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

struct ConsistencyReport {
  uint64_t transactions = 0;  // complete transactions found
  uint64_t torn = 0;
  std::string first_problem;
};

// Compares the record areas of a log disk and a data disk image (e.g. read from snapshots).
ConsistencyReport CheckConsistency(absl::string_view log_area, absl::string_view data_area,
                                   const WorkloadLayout& layout);

}  // namespace vmb::vss

#endif  // VMBACKUP_SIMULATORS_VSS_WORKLOAD_H_
