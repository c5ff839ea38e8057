// A disk-like store of bytes with a fixed size: a VHD file, a page blob, a simulated SATA drive, memory.
// Implementations state their alignment rules; all return kOutOfRange for access beyond size().
#ifndef VMBACKUP_COMMON_IO_BLOCK_DEVICE_H_
#define VMBACKUP_COMMON_IO_BLOCK_DEVICE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::io {

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;
  virtual uint64_t size() const = 0;
  // Reads exactly `length` bytes at `offset` into `out` (resized). Unwritten space reads as zeros.
  virtual absl::Status Read(uint64_t offset, uint64_t length, std::string* out) = 0;
  virtual absl::Status Write(uint64_t offset, absl::string_view data) = 0;
  // Makes earlier writes durable.
  virtual absl::Status Flush() = 0;
};

inline absl::Status CheckRange(uint64_t size, uint64_t offset, uint64_t length) {
  if (offset > size || length > size - offset) {
    return absl::OutOfRangeError("access beyond the end of the device");
  }
  return absl::OkStatus();
}

}  // namespace vmb::io

#endif  // VMBACKUP_COMMON_IO_BLOCK_DEVICE_H_
