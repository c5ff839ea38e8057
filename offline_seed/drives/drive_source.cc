#include "offline_seed/drives/drive_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

std::string Attr(const std::string& path) {
  return std::string(absl::StripAsciiWhitespace(file::ReadFile(path).value_or("")));
}

// "/dev/sda2" -> "sda"; "/dev/nvme0n1p1" -> "nvme0n1"; "/dev/mapper/x" -> "" (not a whole-disk path we know).
std::string DiskOf(const std::string& device) {
  if (!absl::StartsWith(device, "/dev/")) return "";
  std::string name = device.substr(5);
  if (absl::StartsWith(name, "nvme") || absl::StartsWith(name, "mmcblk")) {
    size_t p = name.rfind('p');
    return p != std::string::npos && p > 4 && absl::ascii_isdigit(name[p + 1 < name.size() ? p + 1 : p])
               ? name.substr(0, p)
               : name;
  }
  while (!name.empty() && absl::ascii_isdigit(static_cast<unsigned char>(name.back()))) name.pop_back();
  return name;
}

}  // namespace

absl::StatusOr<drives::proto::DriveInfo> DriveEnumerator::Get(const std::string& name) {
  ASSIGN_OR_RETURN(std::vector<drives::proto::DriveInfo> all, List());
  std::string names;
  for (const auto& d : all) {
    if (d.name() == name) return d;
    absl::StrAppend(&names, names.empty() ? "" : ", ", d.name());
  }
  return absl::NotFoundError(
      absl::StrCat("no drive named ", name, "; the drives are: ", names.empty() ? "(none)" : names));
}

absl::StatusOr<std::vector<drives::proto::DriveInfo>> LinuxDrives::List() {
  ASSIGN_OR_RETURN(std::string mounts, file::ReadFile(mounts_));
  return ListLinuxDrives(sys_block_, mounts, dev_);
}

absl::StatusOr<std::unique_ptr<io::BlockDevice>> LinuxDrives::Open(const std::string& name) {
  ASSIGN_OR_RETURN(drives::proto::DriveInfo d, Get(name));
  if (!d.attached() || d.system()) {
    return absl::FailedPreconditionError(
        absl::StrCat("drive ", name, " is ", d.system() ? "the system disk" : "in use (a partition of it is mounted)",
                     "; it is never written"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<RawBlockDevice> device,
                   RawBlockDevice::Open(d.devicepath(), d.capacity(), std::max<uint32_t>(d.sectorsize(), 4096)));
  return std::unique_ptr<io::BlockDevice>(std::move(device));
}

absl::StatusOr<std::vector<drives::proto::DriveInfo>> ListLinuxDrives(const std::string& sys_block,
                                                                      const std::string& mounts_text,
                                                                      const std::string& dev) {
  std::set<std::string> mounted, system;
  for (absl::string_view line : absl::StrSplit(mounts_text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 2) continue;
    std::string disk = DiskOf(f[0]);
    if (disk.empty()) continue;
    mounted.insert(disk);
    if (f[1] == "/" || f[1] == "/boot" || f[1] == "/boot/efi") system.insert(disk);
  }
  DIR* d = ::opendir(sys_block.c_str());
  if (!d) return file::ErrnoStatus(errno, "cannot list", sys_block);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || absl::StartsWith(n, "loop") || absl::StartsWith(n, "ram") ||
        absl::StartsWith(n, "zram") || absl::StartsWith(n, "dm-") || absl::StartsWith(n, "sr")) {
      continue;
    }
    names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<drives::proto::DriveInfo> out;
  for (const std::string& n : names) {
    std::string base = sys_block + "/" + n;
    uint64_t sectors = 0;
    if (!absl::SimpleAtoi(Attr(base + "/size"), &sectors) || sectors == 0) continue;  // sysfs counts 512-byte units
    drives::proto::DriveInfo s;
    s.set_name(n);
    s.set_devicepath(dev + "/" + n);
    s.set_writeprotected(Attr(base + "/ro") == "1");
    s.set_model(Attr(base + "/device/model"));
    s.set_serial(Attr(base + "/device/serial"));
    if (s.serial().empty()) s.set_serial(Attr(base + "/device/vpd_pg80"));
    s.set_capacity(sectors * 512);
    uint32_t logical = 512;
    absl::SimpleAtoi(Attr(base + "/queue/logical_block_size"), &logical);
    s.set_sectorsize(logical);
    s.set_media(Attr(base + "/queue/rotational") == "0" ? "ssd" : "hdd");
    // The transport: the device link's path says usb / nvme / ata.
    char link[4096] = {0};
    ssize_t l = ::readlink((base + "/device").c_str(), link, sizeof(link) - 1);
    std::string path = l > 0 ? std::string(link, static_cast<size_t>(l)) : "";
    if (absl::StartsWith(n, "nvme")) {
      s.set_interface("nvme");
    } else if (absl::StrContains(path, "/usb")) {
      s.set_interface("usb");
    } else if (absl::StrContains(path, "/ata")) {
      s.set_interface("sata3");  // sysfs does not tell the link speed; libata's ataN/link*/sata_spd would
    } else {
      s.set_interface("unknown");
    }
    s.set_system(system.count(n) > 0);
    s.set_firmware(Attr(base + "/device/rev"));
    s.set_attached(!mounted.count(n));
    out.push_back(s);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<RawBlockDevice>> RawBlockDevice::Open(const std::string& path, uint64_t size,
                                                                     uint32_t alignment) {
  int fd = ::open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
  bool direct = true;
  if (fd < 0 && errno == EINVAL) {  // a file system without O_DIRECT (tmpfs): fall back, and say so
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    direct = false;
  }
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open drive", path);
  return std::unique_ptr<RawBlockDevice>(new RawBlockDevice(fd, path, size, alignment, direct));
}

RawBlockDevice::~RawBlockDevice() { ::close(fd_); }

absl::Status RawBlockDevice::Read(uint64_t offset, uint64_t length, std::string* out) {
  RETURN_IF_ERROR(io::CheckRange(size_, offset, length));
  if (offset % alignment_ || length % alignment_) return absl::InvalidArgumentError("unaligned raw drive read");
  void* buf = nullptr;
  if (::posix_memalign(&buf, alignment_, length ? length : alignment_) != 0)
    return absl::ResourceExhaustedError("no memory");
  ssize_t n = ::pread(fd_, buf, length, static_cast<off_t>(offset));
  int err = errno;
  if (n == static_cast<ssize_t>(length)) out->assign(static_cast<char*>(buf), length);
  std::free(buf);
  if (n != static_cast<ssize_t>(length)) {
    return n < 0 ? file::ErrnoStatus(err, "cannot read drive", path_) : absl::DataLossError("short read from drive");
  }
  return absl::OkStatus();
}

absl::Status RawBlockDevice::Write(uint64_t offset, absl::string_view data) {
  RETURN_IF_ERROR(io::CheckRange(size_, offset, data.size()));
  if (offset % alignment_ || data.size() % alignment_) return absl::InvalidArgumentError("unaligned raw drive write");
  void* buf = nullptr;
  if (::posix_memalign(&buf, alignment_, data.size() ? data.size() : alignment_) != 0) {
    return absl::ResourceExhaustedError("no memory");
  }
  std::memcpy(buf, data.data(), data.size());
  ssize_t n = ::pwrite(fd_, buf, data.size(), static_cast<off_t>(offset));
  int err = errno;
  std::free(buf);
  if (n != static_cast<ssize_t>(data.size())) {
    return n < 0 ? file::ErrnoStatus(err, "cannot write drive", path_) : absl::DataLossError("short write to drive");
  }
  return absl::OkStatus();
}

absl::Status RawBlockDevice::Flush() {
  if (::fdatasync(fd_) != 0) return file::ErrnoStatus(errno, "cannot flush drive", path_);
  return absl::OkStatus();
}

}  // namespace vmb::offline
