// ATA IDENTIFY DEVICE data (the 512-byte, 256-word response of command ECh), as the ATA/ATAPI Command Set (ACS)
// lays it out; what a drive tells the host about itself. Strings are space-padded ASCII with the two bytes of each
// word swapped; numbers are little-endian words; word 255 carries the A5h signature and a checksum that makes the
// byte sum zero.
#ifndef VMBACKUP_SIMULATORS_SATA_IDENTIFY_H_
#define VMBACKUP_SIMULATORS_SATA_IDENTIFY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::sata {

enum class FormFactor : uint8_t { kUnknown = 0, k525 = 1, k35 = 2, k25 = 3, k18 = 4, kSmaller = 5 };
enum class SataGeneration : uint8_t { kNone = 0, kGen1 = 1, kGen2 = 2, kGen3 = 3 };  // 1.5 / 3.0 / 6.0 Gb/s

struct IdentifyInfo {
  std::string model;     // up to 40 characters
  std::string serial;    // up to 20
  std::string firmware;  // up to 8
  uint64_t sectors = 0;  // LBA48 user-addressable logical sectors
  uint32_t logical_sector_size = 512;
  SataGeneration sata = SataGeneration::kGen3;
  uint16_t rotation_rate = 1;  // 1 = non-rotating (SSD), else RPM
  FormFactor form_factor = FormFactor::k25;
};

std::string EncodeIdentify(const IdentifyInfo& info);
// kDataLoss when the integrity word's signature is present but the checksum is wrong; kInvalidArgument for a
// buffer that is not 512 bytes.
absl::StatusOr<IdentifyInfo> DecodeIdentify(absl::string_view data);

}  // namespace vmb::sata

#endif  // VMBACKUP_SIMULATORS_SATA_IDENTIFY_H_
