// An in-memory BlockDevice for tests. Thread-safe.
#ifndef VMBACKUP_COMMON_IO_MEMORY_DEVICE_H_
#define VMBACKUP_COMMON_IO_MEMORY_DEVICE_H_

#include <mutex>
#include <string>

#include "common/io/block_device.h"

namespace vmb::io {

class MemoryDevice : public BlockDevice {
 public:
  explicit MemoryDevice(uint64_t size) : data_(size, '\0') {}
  uint64_t size() const override { return data_.size(); }
  absl::Status Read(uint64_t offset, uint64_t length, std::string* out) override {
    absl::Status s = CheckRange(data_.size(), offset, length);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    out->assign(data_, offset, length);
    return absl::OkStatus();
  }
  absl::Status Write(uint64_t offset, absl::string_view data) override {
    absl::Status s = CheckRange(data_.size(), offset, data.size());
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    data_.replace(offset, data.size(), data.data(), data.size());
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  std::string Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }

 private:
  std::mutex mu_;
  std::string data_;
};

}  // namespace vmb::io

#endif  // VMBACKUP_COMMON_IO_MEMORY_DEVICE_H_
