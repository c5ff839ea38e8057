// Fuzzes the ATA IDENTIFY DEVICE decoder (512 bytes a drive hands us): no crash, and what decodes re-encodes to data
// that decodes to the same drive.
#include <cstdint>
#include <cstdlib>

#include "simulators/sata/identify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmb::sata;
  absl::StatusOr<IdentifyInfo> info = DecodeIdentify(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!info.ok()) return 0;
  absl::StatusOr<IdentifyInfo> once = DecodeIdentify(EncodeIdentify(*info));
  if (!once.ok()) std::abort();
  absl::StatusOr<IdentifyInfo> twice = DecodeIdentify(EncodeIdentify(*once));
  if (!twice.ok() || twice->model != once->model || twice->serial != once->serial || twice->sectors != once->sectors ||
      twice->logical_sector_size != once->logical_sector_size || twice->rotation_rate != once->rotation_rate) {
    std::abort();
  }
  return 0;
}
