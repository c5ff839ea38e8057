#include "simulators/sata/identify.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vmb::sata {
namespace {

void PutWord(std::string* d, int word, uint16_t v) {
  (*d)[2 * word] = static_cast<char>(v & 0xff);
  (*d)[2 * word + 1] = static_cast<char>(v >> 8);
}

uint16_t GetWord(absl::string_view d, int word) {
  return static_cast<uint16_t>(static_cast<unsigned char>(d[2 * word]) |
                               (static_cast<unsigned char>(d[2 * word + 1]) << 8));
}

// ATA strings: padded with spaces, first character in the high byte of each word.
void PutString(std::string* d, int first_word, int words, absl::string_view s) {
  std::string padded(s.substr(0, 2 * words));
  padded.resize(2 * words, ' ');
  for (int i = 0; i < words; ++i) {
    (*d)[2 * (first_word + i)] = padded[2 * i + 1];
    (*d)[2 * (first_word + i) + 1] = padded[2 * i];
  }
}

std::string GetString(absl::string_view d, int first_word, int words) {
  std::string out;
  for (int i = 0; i < words; ++i) {
    out.push_back(d[2 * (first_word + i) + 1]);
    out.push_back(d[2 * (first_word + i)]);
  }
  return std::string(absl::StripTrailingAsciiWhitespace(out));
}

}  // namespace

std::string EncodeIdentify(const IdentifyInfo& info) {
  std::string d(512, '\0');
  PutWord(&d, 0, 0x0040);  // fixed (non-removable) ATA device
  PutString(&d, 10, 10, info.serial);
  PutString(&d, 23, 4, info.firmware);
  PutString(&d, 27, 20, info.model);
  PutWord(&d, 49, 0x0300);  // LBA and DMA supported
  uint64_t lba28 = info.sectors > 0x0FFFFFFF ? 0x0FFFFFFF : info.sectors;
  PutWord(&d, 60, static_cast<uint16_t>(lba28 & 0xffff));
  PutWord(&d, 61, static_cast<uint16_t>(lba28 >> 16));
  uint16_t sata = 0;
  if (info.sata >= SataGeneration::kGen1) sata |= 1 << 1;
  if (info.sata >= SataGeneration::kGen2) sata |= 1 << 2;
  if (info.sata >= SataGeneration::kGen3) sata |= 1 << 3;
  PutWord(&d, 76, sata);
  PutWord(&d, 80, 0x07F0);             // major version: ATA/ATAPI-4 .. ACS-3
  PutWord(&d, 83, 1 << 14 | 1 << 10);  // word valid; 48-bit address feature set supported
  PutWord(&d, 86, 1 << 10);            // 48-bit addressing enabled
  for (int i = 0; i < 4; ++i) PutWord(&d, 100 + i, static_cast<uint16_t>(info.sectors >> (16 * i)));
  uint16_t w106 = 1 << 14;  // word valid
  if (info.logical_sector_size > 512) {
    w106 |= 1 << 12;  // logical sector longer than 256 words
    uint32_t words = info.logical_sector_size / 2;
    PutWord(&d, 117, static_cast<uint16_t>(words & 0xffff));
    PutWord(&d, 118, static_cast<uint16_t>(words >> 16));
  }
  PutWord(&d, 106, w106);
  PutWord(&d, 168, static_cast<uint16_t>(info.form_factor));
  PutWord(&d, 217, info.rotation_rate);
  // Integrity word: signature A5h, checksum so that all 512 bytes sum to 0 mod 256.
  d[510] = static_cast<char>(0xA5);
  unsigned sum = 0;
  for (int i = 0; i < 511; ++i) sum += static_cast<unsigned char>(d[i]);
  d[511] = static_cast<char>((256 - (sum & 0xff)) & 0xff);
  return d;
}

absl::StatusOr<IdentifyInfo> DecodeIdentify(absl::string_view d) {
  if (d.size() != 512)
    return absl::InvalidArgumentError(absl::StrCat("IDENTIFY data is ", d.size(), " bytes, not 512"));
  if (static_cast<unsigned char>(d[510]) == 0xA5) {
    unsigned sum = 0;
    for (unsigned char c : d) sum += c;
    if ((sum & 0xff) != 0) {
      return absl::DataLossError(
          absl::StrFormat("IDENTIFY checksum mismatch (byte sum %02x, expected 00)", sum & 0xff));
    }
  }
  IdentifyInfo info;
  info.serial = GetString(d, 10, 10);
  info.firmware = GetString(d, 23, 4);
  info.model = GetString(d, 27, 20);
  if (GetWord(d, 83) & (1 << 10)) {
    for (int i = 3; i >= 0; --i) info.sectors = (info.sectors << 16) | GetWord(d, 100 + i);
  } else {
    info.sectors = GetWord(d, 60) | (static_cast<uint64_t>(GetWord(d, 61)) << 16);
  }
  uint16_t w106 = GetWord(d, 106);
  if ((w106 & 0xC000) == 0x4000 && (w106 & (1 << 12))) {
    info.logical_sector_size = 2 * (GetWord(d, 117) | (static_cast<uint32_t>(GetWord(d, 118)) << 16));
  }
  uint16_t sata = GetWord(d, 76);
  info.sata = sata & (1 << 3)   ? SataGeneration::kGen3
              : sata & (1 << 2) ? SataGeneration::kGen2
              : sata & (1 << 1) ? SataGeneration::kGen1
                                : SataGeneration::kNone;
  info.form_factor = static_cast<FormFactor>(GetWord(d, 168) & 0xf);
  info.rotation_rate = GetWord(d, 217);
  return info;
}

}  // namespace vmb::sata
