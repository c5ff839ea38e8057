// A page blob as a BlockDevice: how a VM's disk looks from the storage side. Reads are Get Blob ranges; writes are
// Put Page calls of at most 4 MiB and must be 512-byte aligned (kInvalidArgument otherwise, as the service says).
#ifndef VMBACKUP_COMMON_BLOB_PAGE_BLOB_DEVICE_H_
#define VMBACKUP_COMMON_BLOB_PAGE_BLOB_DEVICE_H_

#include "common/blob/blob_client.h"
#include "common/io/block_device.h"

namespace vmb::blob {

class PageBlobDevice : public io::BlockDevice {
 public:
  // `size` is the page blob's size (GetProperties tells it).
  PageBlobDevice(BlobClient* client, BlobUri blob, uint64_t size)
      : client_(client), blob_(std::move(blob)), size_(size) {}

  uint64_t size() const override { return size_; }
  absl::Status Read(uint64_t offset, uint64_t length, std::string* out) override;
  absl::Status Write(uint64_t offset, absl::string_view data) override;
  absl::Status Flush() override { return absl::OkStatus(); }  // Put Page is durable when it returns

 private:
  BlobClient* client_;
  BlobUri blob_;
  uint64_t size_;
};

}  // namespace vmb::blob

#endif  // VMBACKUP_COMMON_BLOB_PAGE_BLOB_DEVICE_H_
