#include "common/blob/page_blob_device.h"

#include "common/status/status_macros.h"

namespace vmb::blob {

absl::Status PageBlobDevice::Read(uint64_t offset, uint64_t length, std::string* out) {
  RETURN_IF_ERROR(io::CheckRange(size_, offset, length));
  out->clear();
  for (uint64_t done = 0; done < length;) {
    uint64_t n = std::min<uint64_t>(length - done, 32u << 20);
    ASSIGN_OR_RETURN(std::string part, client_->GetBlob(blob_, ByteRange{offset + done, n}));
    out->append(part);
    done += n;
  }
  return absl::OkStatus();
}

absl::Status PageBlobDevice::Write(uint64_t offset, absl::string_view data) {
  RETURN_IF_ERROR(io::CheckRange(size_, offset, data.size()));
  for (uint64_t done = 0; done < data.size(); done += kMaxPutPageBytes) {
    RETURN_IF_ERROR(client_->PutPages(blob_, offset + done, data.substr(done, kMaxPutPageBytes)));
  }
  return absl::OkStatus();
}

}  // namespace vmb::blob
