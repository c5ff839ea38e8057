#include "simulators/vhd/vhd.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::vhd {
namespace {

constexpr uint32_t kUnallocated = 0xFFFFFFFFu;
constexpr uint64_t kSector = 512;
const absl::Time kVhdEpoch = absl::FromCivil(absl::CivilSecond(2000, 1, 1, 0, 0, 0), absl::UTCTimeZone());

void Put32(std::string* s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*s)[at + i] = static_cast<char>(v >> (24 - 8 * i));
}
void Put64(std::string* s, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) (*s)[at + i] = static_cast<char>(v >> (56 - 8 * i));
}
uint32_t Get32(absl::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
uint64_t Get64(absl::string_view s, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// The spec's checksum: one's complement of the byte sum, with the checksum field itself taken as zero.
uint32_t Checksum(absl::string_view bytes, size_t checksum_at) {
  uint32_t sum = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i >= checksum_at && i < checksum_at + 4) continue;
    sum += static_cast<unsigned char>(bytes[i]);
  }
  return ~sum;
}

}  // namespace

Geometry GeometryForSize(uint64_t size) {
  uint64_t total = size / kSector;
  if (total > 65535ull * 16 * 255) total = 65535ull * 16 * 255;
  uint64_t spt, heads, cth;
  if (total >= 65535ull * 16 * 63) {
    spt = 255;
    heads = 16;
    cth = total / spt;
  } else {
    spt = 17;
    cth = total / spt;
    heads = (cth + 1023) / 1024;
    if (heads < 4) heads = 4;
    if (cth >= heads * 1024 || heads > 16) {
      spt = 31;
      heads = 16;
      cth = total / spt;
    }
    if (cth >= heads * 1024) {
      spt = 63;
      heads = 16;
      cth = total / spt;
    }
  }
  return Geometry{static_cast<uint16_t>(cth / heads), static_cast<uint8_t>(heads), static_cast<uint8_t>(spt)};
}

std::string EncodeFooter(const Footer& f) {
  std::string s(512, '\0');
  s.replace(0, 8, "conectix");
  Put32(&s, 8, f.features);
  Put32(&s, 12, f.version);
  Put64(&s, 16, f.data_offset);
  Put32(&s, 24, f.timestamp);
  s.replace(28, 4, (f.creator_app + "    ").substr(0, 4));
  Put32(&s, 32, f.creator_version);
  Put32(&s, 36, f.creator_os);
  Put64(&s, 40, f.original_size);
  Put64(&s, 48, f.current_size);
  s[56] = static_cast<char>(f.geometry.cylinders >> 8);
  s[57] = static_cast<char>(f.geometry.cylinders & 0xff);
  s[58] = static_cast<char>(f.geometry.heads);
  s[59] = static_cast<char>(f.geometry.sectors_per_track);
  Put32(&s, 60, static_cast<uint32_t>(f.type));
  s.replace(68, 16, (f.unique_id + std::string(16, '\0')).substr(0, 16));
  s[84] = static_cast<char>(f.saved_state);
  Put32(&s, 64, Checksum(s, 64));
  return s;
}

absl::StatusOr<Footer> DecodeFooter(absl::string_view s) {
  if (s.size() < 512) return absl::DataLossError("VHD footer is shorter than 512 bytes");
  if (s.substr(0, 8) != "conectix") {
    return absl::DataLossError("no VHD footer: the last 512 bytes do not start with \"conectix\" (not a VHD file?)");
  }
  uint32_t stored = Get32(s, 64), computed = Checksum(s.substr(0, 512), 64);
  if (stored != computed) {
    return absl::DataLossError(
        absl::StrFormat("VHD footer checksum mismatch: stored %08x, computed %08x", stored, computed));
  }
  Footer f;
  f.features = Get32(s, 8);
  f.version = Get32(s, 12);
  f.data_offset = Get64(s, 16);
  f.timestamp = Get32(s, 24);
  f.creator_app = std::string(s.substr(28, 4));
  f.creator_version = Get32(s, 32);
  f.creator_os = Get32(s, 36);
  f.original_size = Get64(s, 40);
  f.current_size = Get64(s, 48);
  f.geometry =
      Geometry{static_cast<uint16_t>((static_cast<unsigned char>(s[56]) << 8) | static_cast<unsigned char>(s[57])),
               static_cast<uint8_t>(s[58]), static_cast<uint8_t>(s[59])};
  uint32_t type = Get32(s, 60);
  if (type == 4) return absl::UnimplementedError("differencing VHDs are not supported");
  if (type != 2 && type != 3) return absl::DataLossError(absl::StrCat("unknown VHD disk type ", type));
  f.type = static_cast<DiskType>(type);
  f.unique_id = std::string(s.substr(68, 16));
  f.saved_state = static_cast<uint8_t>(s[84]);
  if (f.current_size % kSector != 0) return absl::DataLossError("VHD size is not a multiple of 512");
  return f;
}

std::string EncodeDynamicHeader(const DynamicHeader& h) {
  std::string s(1024, '\0');
  s.replace(0, 8, "cxsparse");
  Put64(&s, 8, ~uint64_t{0});
  Put64(&s, 16, h.table_offset);
  Put32(&s, 24, 0x00010000);
  Put32(&s, 28, h.max_table_entries);
  Put32(&s, 32, h.block_size);
  Put32(&s, 36, Checksum(s, 36));
  return s;
}

absl::StatusOr<DynamicHeader> DecodeDynamicHeader(absl::string_view s) {
  if (s.size() < 1024 || s.substr(0, 8) != "cxsparse") {
    return absl::DataLossError("dynamic VHD header missing (no \"cxsparse\" cookie at the footer's data offset)");
  }
  uint32_t stored = Get32(s, 36), computed = Checksum(s.substr(0, 1024), 36);
  if (stored != computed) {
    return absl::DataLossError(
        absl::StrFormat("dynamic VHD header checksum mismatch: stored %08x, computed %08x", stored, computed));
  }
  DynamicHeader h;
  h.table_offset = Get64(s, 16);
  h.max_table_entries = Get32(s, 28);
  h.block_size = Get32(s, 32);
  if (h.block_size == 0 || h.block_size % kSector != 0) {
    return absl::DataLossError(absl::StrCat("bad dynamic VHD block size ", h.block_size));
  }
  return h;
}

absl::Status VhdFile::PWrite(uint64_t offset, absl::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return file::ErrnoStatus(errno, "cannot write", path_);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status VhdFile::PRead(uint64_t offset, uint64_t length, char* out) {
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, out + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return file::ErrnoStatus(errno, "cannot read", path_);
    }
    if (n == 0) return absl::DataLossError(absl::StrCat(path_, " is truncated (read past end of file)"));
    done += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<VhdFile>> VhdFile::Create(const std::string& path, DiskType type, uint64_t size) {
  if (size == 0) return absl::InvalidArgumentError("VHD size must be > 0");
  size = (size + kSector - 1) / kSector * kSector;
  if (size > 2040ull << 30) return absl::InvalidArgumentError("VHD size is limited to 2040 GiB");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot create", path);
  Footer f;
  f.type = type;
  f.original_size = f.current_size = size;
  f.geometry = GeometryForSize(size);
  f.timestamp = static_cast<uint32_t>(absl::ToInt64Seconds(absl::Now() - kVhdEpoch));
  f.unique_id = crypto::SecureRandom().Bytes(16);
  std::unique_ptr<VhdFile> vhd(new VhdFile(fd, path, f));
  if (type == DiskType::kFixed) {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return file::ErrnoStatus(errno, "cannot size", path);
    RETURN_IF_ERROR(vhd->PWrite(size, EncodeFooter(f)));
    vhd->file_size_ = size + 512;
  } else {
    vhd->footer_.data_offset = 512;
    vhd->header_.max_table_entries =
        static_cast<uint32_t>((size + vhd->header_.block_size - 1) / vhd->header_.block_size);
    uint64_t bat_bytes = (uint64_t{vhd->header_.max_table_entries} * 4 + kSector - 1) / kSector * kSector;
    std::string footer = EncodeFooter(vhd->footer_);
    std::string bat(bat_bytes, '\xff');
    RETURN_IF_ERROR(vhd->PWrite(0, footer));
    RETURN_IF_ERROR(vhd->PWrite(512, EncodeDynamicHeader(vhd->header_)));
    RETURN_IF_ERROR(vhd->PWrite(1536, bat));
    RETURN_IF_ERROR(vhd->PWrite(1536 + bat_bytes, footer));
    vhd->bat_.assign(vhd->header_.max_table_entries, kUnallocated);
    vhd->file_size_ = 1536 + bat_bytes + 512;
  }
  RETURN_IF_ERROR(vhd->Flush());
  return vhd;
}

absl::StatusOr<std::unique_ptr<VhdFile>> VhdFile::Open(const std::string& path, bool writable) {
  int fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open", path);
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_size < 512) {
    ::close(fd);
    return absl::DataLossError(absl::StrCat(path, " is too small to be a VHD"));
  }
  std::string tail(512, '\0');
  std::unique_ptr<VhdFile> vhd(new VhdFile(fd, path, Footer{}));
  vhd->file_size_ = static_cast<uint64_t>(st.st_size);
  RETURN_IF_ERROR(vhd->PRead(vhd->file_size_ - 512, 512, tail.data()));
  absl::StatusOr<Footer> footer = DecodeFooter(tail);
  if (!footer.ok()) return absl::Status(footer.status().code(), absl::StrCat(path, ": ", footer.status().message()));
  vhd->footer_ = *footer;
  if (vhd->footer_.type == DiskType::kFixed) {
    if (vhd->file_size_ < vhd->footer_.current_size + 512) {
      return absl::DataLossError(absl::StrCat(path, ": fixed VHD is shorter than its size says"));
    }
  } else {
    RETURN_IF_ERROR(vhd->LoadDynamic());
  }
  return vhd;
}

absl::Status VhdFile::LoadDynamic() {
  std::string h(1024, '\0');
  RETURN_IF_ERROR(PRead(footer_.data_offset, 1024, h.data()));
  absl::StatusOr<DynamicHeader> header = DecodeDynamicHeader(h);
  if (!header.ok()) return absl::Status(header.status().code(), absl::StrCat(path_, ": ", header.status().message()));
  header_ = *header;
  uint64_t needed = (footer_.current_size + header_.block_size - 1) / header_.block_size;
  if (header_.max_table_entries < needed) {
    return absl::DataLossError(
        absl::StrCat(path_, ": BAT has ", header_.max_table_entries, " entries, the size needs ", needed));
  }
  std::string bat(uint64_t{header_.max_table_entries} * 4, '\0');
  RETURN_IF_ERROR(PRead(header_.table_offset, bat.size(), bat.data()));
  bat_.resize(header_.max_table_entries);
  uint64_t bitmap = (header_.block_size / kSector / 8 + kSector - 1) / kSector * kSector;
  for (uint32_t i = 0; i < header_.max_table_entries; ++i) {
    bat_[i] = Get32(bat, 4 * i);
    if (bat_[i] != kUnallocated && uint64_t{bat_[i]} * kSector + bitmap + header_.block_size > file_size_ - 512) {
      return absl::DataLossError(absl::StrCat(path_, ": BAT entry ", i, " points past the end of the file"));
    }
  }
  return absl::OkStatus();
}

VhdFile::~VhdFile() { ::close(fd_); }

absl::Status VhdFile::Flush() {
  if (::fsync(fd_) != 0) return file::ErrnoStatus(errno, "cannot flush", path_);
  return absl::OkStatus();
}

absl::Status VhdFile::ReadBlockPart(uint32_t block, uint64_t in_block, uint64_t length, char* out) {
  if (bat_[block] == kUnallocated) {
    std::fill(out, out + length, '\0');
    return absl::OkStatus();
  }
  uint64_t bitmap_bytes = (header_.block_size / kSector / 8 + kSector - 1) / kSector * kSector;
  uint64_t base = uint64_t{bat_[block]} * kSector;
  std::string bitmap(bitmap_bytes, '\0');
  RETURN_IF_ERROR(PRead(base, bitmap_bytes, bitmap.data()));
  RETURN_IF_ERROR(PRead(base + bitmap_bytes + in_block, length, out));
  // Sectors whose bitmap bit is clear hold no data: they read as zeros.
  for (uint64_t off = in_block / kSector * kSector; off < in_block + length; off += kSector) {
    uint64_t sector = off / kSector;
    bool present = (static_cast<unsigned char>(bitmap[sector / 8]) >> (7 - sector % 8)) & 1;
    if (present) continue;
    uint64_t from = std::max(off, in_block), to = std::min(off + kSector, in_block + length);
    std::fill(out + (from - in_block), out + (to - in_block), '\0');
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> VhdFile::AllocateBlock(uint32_t block) {
  uint64_t bitmap_bytes = (header_.block_size / kSector / 8 + kSector - 1) / kSector * kSector;
  uint64_t base = file_size_ - 512;  // the new block goes where the footer is
  // Bitmap (all clear) and zeroed data, then the footer at the new end, then the BAT entry.
  if (::ftruncate(fd_, static_cast<off_t>(base + bitmap_bytes + header_.block_size)) != 0) {
    return file::ErrnoStatus(errno, "cannot grow", path_);
  }
  RETURN_IF_ERROR(PWrite(base, std::string(bitmap_bytes, '\0')));
  RETURN_IF_ERROR(PWrite(base + bitmap_bytes + header_.block_size, EncodeFooter(footer_)));
  std::string entry(4, '\0');
  Put32(&entry, 0, static_cast<uint32_t>(base / kSector));
  RETURN_IF_ERROR(PWrite(header_.table_offset + 4ull * block, entry));
  bat_[block] = static_cast<uint32_t>(base / kSector);
  file_size_ = base + bitmap_bytes + header_.block_size + 512;
  return base;
}

absl::Status VhdFile::WriteBlockPart(uint32_t block, uint64_t in_block, absl::string_view data) {
  if (bat_[block] == kUnallocated) {
    if (data.find_first_not_of('\0') == absl::string_view::npos) return absl::OkStatus();  // stays sparse
    RETURN_IF_ERROR(AllocateBlock(block).status());
  }
  uint64_t bitmap_bytes = (header_.block_size / kSector / 8 + kSector - 1) / kSector * kSector;
  uint64_t base = uint64_t{bat_[block]} * kSector;
  std::string bitmap(bitmap_bytes, '\0');
  RETURN_IF_ERROR(PRead(base, bitmap_bytes, bitmap.data()));
  // Partial sectors: read-modify-write so the rest of the sector keeps its (possibly zero) content.
  uint64_t first = in_block / kSector * kSector, last = (in_block + data.size() + kSector - 1) / kSector * kSector;
  std::string buf(last - first, '\0');
  RETURN_IF_ERROR(ReadBlockPart(block, first, buf.size(), buf.data()));
  buf.replace(in_block - first, data.size(), data.data(), data.size());
  RETURN_IF_ERROR(PWrite(base + bitmap_bytes + first, buf));
  for (uint64_t s = first / kSector; s < last / kSector; ++s) bitmap[s / 8] |= static_cast<char>(0x80 >> (s % 8));
  return PWrite(base, bitmap);
}

absl::Status VhdFile::Read(uint64_t offset, uint64_t length, std::string* out) {
  RETURN_IF_ERROR(io::CheckRange(size(), offset, length));
  out->assign(length, '\0');
  if (footer_.type == DiskType::kFixed) return PRead(offset, length, out->data());
  uint64_t done = 0;
  while (done < length) {
    uint64_t pos = offset + done;
    uint32_t block = static_cast<uint32_t>(pos / header_.block_size);
    uint64_t in_block = pos % header_.block_size;
    uint64_t n = std::min<uint64_t>(length - done, header_.block_size - in_block);
    RETURN_IF_ERROR(ReadBlockPart(block, in_block, n, out->data() + done));
    done += n;
  }
  return absl::OkStatus();
}

absl::Status VhdFile::Write(uint64_t offset, absl::string_view data) {
  RETURN_IF_ERROR(io::CheckRange(size(), offset, data.size()));
  if (footer_.type == DiskType::kFixed) return PWrite(offset, data);
  uint64_t done = 0;
  while (done < data.size()) {
    uint64_t pos = offset + done;
    uint32_t block = static_cast<uint32_t>(pos / header_.block_size);
    uint64_t in_block = pos % header_.block_size;
    uint64_t n = std::min<uint64_t>(data.size() - done, header_.block_size - in_block);
    RETURN_IF_ERROR(WriteBlockPart(block, in_block, data.substr(done, n)));
    done += n;
  }
  return absl::OkStatus();
}

Info VhdFile::GetInfo() const {
  Info i;
  i.type = footer_.type;
  i.size = footer_.current_size;
  i.geometry = footer_.geometry;
  i.creator_app = footer_.creator_app;
  i.unique_id_hex = crypto::Base16Encode(footer_.unique_id);
  i.file_size = file_size_;
  if (footer_.type == DiskType::kDynamic) {
    i.block_size = header_.block_size;
    i.blocks_total = header_.max_table_entries;
    for (uint32_t e : bat_) i.blocks_allocated += e != kUnallocated;
  }
  return i;
}

}  // namespace vmb::vhd
