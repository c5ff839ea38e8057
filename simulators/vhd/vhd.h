// Virtual disks in Microsoft's VHD format (Virtual Hard Disk Image Format Specification, v1.0): fixed disks (data
// followed by a 512-byte "conectix" footer) and dynamic disks (footer copy, "cxsparse" dynamic header, Block
// Allocation Table, 2 MiB blocks each led by a sector bitmap, footer). Azure page-blob disks are fixed VHDs.
//
// Writes to a dynamic disk allocate blocks on demand in a crash-tolerant order: block bitmap and data first, then
// the footer at the new end of file, then the BAT entry; a crash leaves at worst an unreferenced block.
#ifndef VMBACKUP_SIMULATORS_VHD_VHD_H_
#define VMBACKUP_SIMULATORS_VHD_VHD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/io/block_device.h"

namespace vmb::vhd {

enum class DiskType : uint32_t { kFixed = 2, kDynamic = 3 };

struct Geometry {
  uint16_t cylinders = 0;
  uint8_t heads = 0;
  uint8_t sectors_per_track = 0;
};

// CHS geometry for a size, per the spec's algorithm (Appendix "CHS Calculation").
Geometry GeometryForSize(uint64_t size);

struct Footer {
  uint32_t features = 2;
  uint32_t version = 0x00010000;
  uint64_t data_offset = ~uint64_t{0};
  uint32_t timestamp = 0;  // seconds since 2000-01-01T00:00:00Z
  std::string creator_app = "vmbk";
  uint32_t creator_version = 0x00010000;
  uint32_t creator_os = 0x5769326B;  // "Wi2k"
  uint64_t original_size = 0;
  uint64_t current_size = 0;
  Geometry geometry;
  DiskType type = DiskType::kFixed;
  std::string unique_id;  // 16 bytes
  uint8_t saved_state = 0;
};

std::string EncodeFooter(const Footer& footer);  // 512 bytes with checksum
// kDataLoss naming the problem: wrong cookie, bad checksum (stored vs computed), unknown disk type.
absl::StatusOr<Footer> DecodeFooter(absl::string_view bytes);

struct DynamicHeader {
  uint64_t table_offset = 1536;
  uint32_t max_table_entries = 0;
  uint32_t block_size = 2u << 20;
};

std::string EncodeDynamicHeader(const DynamicHeader& header);  // 1024 bytes with checksum
absl::StatusOr<DynamicHeader> DecodeDynamicHeader(absl::string_view bytes);

struct Info {
  DiskType type;
  uint64_t size;
  Geometry geometry;
  std::string creator_app;
  std::string unique_id_hex;
  uint32_t block_size = 0;        // dynamic only
  uint32_t blocks_total = 0;      // dynamic only
  uint32_t blocks_allocated = 0;  // dynamic only
  uint64_t file_size = 0;
};

class VhdFile : public io::BlockDevice {
 public:
  // Creates `path` (must not exist). `size` is rounded up to a multiple of 512.
  static absl::StatusOr<std::unique_ptr<VhdFile>> Create(const std::string& path, DiskType type, uint64_t size);
  // Opens and validates an existing VHD (footer, and for dynamic disks the header and BAT).
  static absl::StatusOr<std::unique_ptr<VhdFile>> Open(const std::string& path, bool writable = true);
  ~VhdFile() override;

  uint64_t size() const override { return footer_.current_size; }
  absl::Status Read(uint64_t offset, uint64_t length, std::string* out) override;
  absl::Status Write(uint64_t offset, absl::string_view data) override;
  absl::Status Flush() override;
  Info GetInfo() const;

 private:
  VhdFile(int fd, std::string path, Footer footer) : fd_(fd), path_(std::move(path)), footer_(std::move(footer)) {}
  absl::Status LoadDynamic();
  absl::Status ReadBlockPart(uint32_t block, uint64_t in_block, uint64_t length, char* out);
  absl::Status WriteBlockPart(uint32_t block, uint64_t in_block, absl::string_view data);
  absl::StatusOr<uint64_t> AllocateBlock(uint32_t block);
  absl::Status PWrite(uint64_t offset, absl::string_view data);
  absl::Status PRead(uint64_t offset, uint64_t length, char* out);

  int fd_;
  std::string path_;
  Footer footer_;
  DynamicHeader header_;
  std::vector<uint32_t> bat_;  // sector offsets, 0xFFFFFFFF = unallocated
  uint64_t file_size_ = 0;
};

}  // namespace vmb::vhd

#endif  // VMBACKUP_SIMULATORS_VHD_VHD_H_
