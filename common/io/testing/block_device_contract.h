// The BlockDevice contract as one suite that every implementation's own test runs (memory, O_DIRECT drives, the
// encrypted volume, page blobs, simulated SATA drives), and a forwarding device that injects faults.
#ifndef VMBACKUP_COMMON_IO_TESTING_BLOCK_DEVICE_CONTRACT_H_
#define VMBACKUP_COMMON_IO_TESTING_BLOCK_DEVICE_CONTRACT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "common/io/block_device.h"

namespace vmb::io::testing {

struct ContractOptions {
  uint64_t alignment = 4096;      // the implementation's offset and length unit
  bool fresh_reads_zeros = true;  // a device nobody wrote reads as zeros (an encrypted volume's does not)
};

// Adds a gtest failure per broken rule: size is whole units; what is written reads back (first unit, a span of
// several units, the last unit) and leaves its neighbours alone; reads and writes past the end are kOutOfRange and
// change nothing; an empty read at the end is fine; Flush succeeds and keeps the data. The device must be at least
// 16 units and is written.
void ExpectBlockDeviceContract(BlockDevice& device, const ContractOptions& options = {});

// Forwards to `inner`; `fault` is asked before each operation ("read", "write", "flush", with offset and length)
// and an error it returns is returned instead of doing it.
class FaultyDevice : public BlockDevice {
 public:
  using Fault = std::function<absl::Status(const char* op, uint64_t offset, uint64_t length)>;
  FaultyDevice(BlockDevice* inner, Fault fault) : inner_(inner), fault_(std::move(fault)) {}
  uint64_t size() const override { return inner_->size(); }
  absl::Status Read(uint64_t offset, uint64_t length, std::string* out) override;
  absl::Status Write(uint64_t offset, absl::string_view data) override;
  absl::Status Flush() override;

 private:
  BlockDevice* inner_;
  Fault fault_;
};

}  // namespace vmb::io::testing

#endif  // VMBACKUP_COMMON_IO_TESTING_BLOCK_DEVICE_CONTRACT_H_
