#include "simulators/sata/drive.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"

namespace vmb::sata {
namespace {

// Like a drive's DRAM cache, which drains to the media on its own while the host sends more: once it holds this
// much, its extents go to the image and their write-back starts (the disk under the bay works while the host does),
// and Flush only waits for what is still on its way.
constexpr uint64_t kDestageBytes = 16ull << 20;

std::string SpecPath(const std::string& dir, const std::string& name) { return dir + "/" + name + ".drive.json"; }
std::string ImagePath(const std::string& dir, const std::string& name) { return dir + "/" + name + ".img"; }

}  // namespace

IdentifyInfo IdentifyFor(const proto::DriveSpec& spec) {
  IdentifyInfo i;
  i.model = spec.model();
  i.serial = spec.serial();
  i.firmware = spec.firmware().empty() ? "VMBK0001" : spec.firmware();
  i.logical_sector_size = spec.sectorsize() ? spec.sectorsize() : 512;
  i.sectors = spec.capacity() / i.logical_sector_size;
  i.sata = spec.interface() == "sata3"   ? SataGeneration::kGen3
           : spec.interface() == "sata2" ? SataGeneration::kGen2
                                         : SataGeneration::kNone;
  i.rotation_rate = spec.media() == "ssd" ? 1 : 7200;
  i.form_factor = spec.formfactor() == "3.5"   ? FormFactor::k35
                  : spec.formfactor() == "2.5" ? FormFactor::k25
                                               : FormFactor::kUnknown;
  return i;
}

SataDrive::SataDrive(std::string bay, proto::DriveSpec spec, int fd, Clock& clock)
    : bay_(std::move(bay)), spec_(std::move(spec)), fd_(fd), clock_(clock) {
  // The media: the image opened a second time for direct I/O, so destaging goes to the disk without passing through
  // (and costing the host a copy into) the page cache, as a drive's media is not the host's memory. File systems
  // without O_DIRECT (tmpfs) keep the buffered path.
  direct_fd_ = ::open(("/proc/self/fd/" + std::to_string(fd_)).c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
}

SataDrive::~SataDrive() {
  ::close(fd_);
  if (direct_fd_ >= 0) ::close(direct_fd_);
}

std::string SataDrive::Identify() const { return EncodeIdentify(IdentifyFor(spec_)); }

int SataDrive::injected_errors() const {
  MutexLock lock(&mu_);
  return injected_;
}

absl::Status SataDrive::Check(uint64_t offset, uint64_t length) {
  uint32_t sector = spec_.sectorsize();
  if (offset % sector || length % sector) {
    return absl::InvalidArgumentError(absl::StrCat("drive ", spec_.name(), ": access at ", offset, "+", length,
                                                   " is not aligned to its ", sector, "-byte sectors"));
  }
  RETURN_IF_ERROR(io::CheckRange(size(), offset, length));
  MutexLock lock(&mu_);
  if (removed_) {
    ++injected_;
    return absl::UnavailableError(absl::StrCat("drive ", spec_.name(), " (serial ", spec_.serial(), ") was removed"));
  }
  uint64_t first = offset / sector, last = (offset + length) / sector;  // [first, last)
  for (const proto::BadRange& bad : spec_.badranges()) {
    if (bad.firstlba() < last && first < bad.firstlba() + bad.count()) {
      ++injected_;
      return absl::DataLossError(
          absl::StrCat("drive ", spec_.name(), ": unrecoverable I/O error at LBA ", std::max(first, bad.firstlba())));
    }
  }
  return absl::OkStatus();
}

absl::Duration SataDrive::MediaTime(uint64_t bytes) const {
  return absl::Seconds(static_cast<double>(bytes) / (spec_.throughputmbps() * 1e6));
}

absl::Duration SataDrive::QueueOnMedia(uint64_t bytes) {
  MutexLock lock(&mu_);
  absl::Time now = clock_.Now();
  media_busy_until_ = std::max(now, media_busy_until_) + MediaTime(bytes);
  return media_busy_until_ - now;
}

void SataDrive::ThrottleWrite(uint64_t bytes) {
  if (spec_.throughputmbps() <= 0) return;
  absl::Duration wait = QueueOnMedia(bytes) - MediaTime(kCacheBytes);  // beyond what the cache holds
  if (wait > absl::ZeroDuration()) clock_.SleepFor(wait);
}

void SataDrive::ThrottleRead(uint64_t bytes) {
  if (spec_.throughputmbps() <= 0) return;
  clock_.SleepFor(QueueOnMedia(bytes));
}

void SataDrive::ThrottleFlush() {
  if (spec_.throughputmbps() <= 0) return;
  absl::Duration wait;
  {
    MutexLock lock(&mu_);
    wait = media_busy_until_ - clock_.Now();
  }
  if (wait > absl::ZeroDuration()) clock_.SleepFor(wait);
}

// A counterfeit drive (realCapacity) maps every offset modulo what it really keeps, piece by piece.
absl::Status SataDrive::Read(uint64_t offset, uint64_t length, std::string* out) {
  const uint64_t real = spec_.realcapacity();
  if (real == 0 || real >= spec_.capacity()) return ReadAt(offset, length, out);
  RETURN_IF_ERROR(io::CheckRange(size(), offset, length));
  out->clear();
  while (length > 0) {
    uint64_t at = offset % real, n = std::min(length, real - at);
    std::string piece;
    RETURN_IF_ERROR(ReadAt(at, n, &piece));
    out->append(piece);
    offset += n;
    length -= n;
  }
  return absl::OkStatus();
}

absl::Status SataDrive::Write(uint64_t offset, absl::string_view data) {
  const uint64_t real = spec_.realcapacity();
  if (real == 0 || real >= spec_.capacity()) return WriteAt(offset, data);
  RETURN_IF_ERROR(io::CheckRange(size(), offset, data.size()));
  while (!data.empty()) {
    uint64_t at = offset % real, n = std::min<uint64_t>(data.size(), real - at);
    RETURN_IF_ERROR(WriteAt(at, data.substr(0, n)));
    offset += n;
    data.remove_prefix(n);
  }
  return absl::OkStatus();
}

absl::Status SataDrive::ReadAt(uint64_t offset, uint64_t length, std::string* out) {
  RETURN_IF_ERROR(Check(offset, length));
  out->assign(length, '\0');
  uint64_t done = 0;
  if (direct_fd_ >= 0 && offset % kDirectAlign == 0 && length % kDirectAlign == 0) {  // from the media, not the cache
    MutexLock lock(&read_mu_);
    if (!read_buf_) RETURN_IF_ERROR(AllocateAligned(&read_buf_));
    while (done < length) {
      size_t want = std::min<uint64_t>(kDirectChunk, length - done);
      ssize_t n = ::pread(direct_fd_, read_buf_.get(), want, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return file::ErrnoStatus(errno, "cannot read drive image", bay_);
      std::memcpy(out->data() + done, read_buf_.get(), static_cast<size_t>(n));
      done += static_cast<uint64_t>(n);
      if (static_cast<size_t>(n) < want) break;  // sparse tail: zeros
    }
    done = length;
  }
  while (done < length) {
    ssize_t n = ::pread(fd_, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return file::ErrnoStatus(errno, "cannot read drive image", bay_);
    if (n == 0) break;  // sparse tail: zeros
    done += static_cast<uint64_t>(n);
  }
  {
    MutexLock lock(&mu_);
    // Overlay the cached (unflushed) extents that overlap [offset, offset + length).
    auto it = cache_.upper_bound(offset);
    if (it != cache_.begin()) --it;
    for (; it != cache_.end() && it->first < offset + length; ++it) {
      uint64_t a = std::max(offset, it->first), b = std::min(offset + length, it->first + it->second.size());
      if (a < b) out->replace(a - offset, b - a, it->second, a - it->first, b - a);
    }
  }
  {
    MutexLock lock(&mu_);
    const uint32_t sector = spec_.sectorsize();
    for (const proto::BadRange& rot : spec_.silentranges()) {
      for (uint64_t lba = std::max(rot.firstlba(), offset / sector);
           lba < rot.firstlba() + rot.count() && lba < (offset + length) / sector; ++lba) {
        (*out)[lba * sector - offset] ^= 0x01;
        ++injected_;
      }
    }
  }
  ThrottleRead(length);
  return absl::OkStatus();
}

absl::Status SataDrive::WriteAt(uint64_t offset, absl::string_view data) {
  RETURN_IF_ERROR(Check(offset, data.size()));
  if (spec_.writeprotected()) {
    return absl::PermissionDeniedError(absl::StrCat("drive ", spec_.name(), " (serial ", spec_.serial(),
                                                    ") is write-protected; remove the protection or choose another "
                                                    "drive"));
  }
  {
    MutexLock lock(&mu_);
    uint32_t sector = spec_.sectorsize();
    uint64_t accepted = data.size();
    if (spec_.pullafterbytes() > 0 && written_ + static_cast<int64_t>(data.size()) > spec_.pullafterbytes()) {
      accepted = (spec_.pullafterbytes() - written_) / sector * sector;  // part of the write lands, then it is gone
      removed_ = true;
    }
    if (accepted > 0) {
      // The cache holds non-overlapping extents: trim what the new write covers, then insert it.
      uint64_t a = offset, b = offset + accepted;
      auto it = cache_.upper_bound(a);
      if (it != cache_.begin()) --it;
      while (it != cache_.end() && it->first < b) {
        uint64_t ea = it->first, eb = it->first + it->second.size();
        if (eb <= a) {
          ++it;
          continue;
        }
        std::string old = std::move(it->second);
        cached_bytes_ -= old.size();
        it = cache_.erase(it);
        if (ea < a) {
          cache_.emplace(ea, old.substr(0, a - ea));
          cached_bytes_ += a - ea;
        }
        if (eb > b) {
          cache_.emplace(b, old.substr(b - ea));
          cached_bytes_ += eb - b;
        }
      }
      cache_.emplace(a, std::string(data.substr(0, accepted)));
      cached_bytes_ += accepted;
    }
    (void)sector;
    written_ += static_cast<int64_t>(accepted);
    if (removed_) {
      ++injected_;
      spec_.set_attached(false);
      (void)file::WriteFileAtomic(SpecPath(bay_, spec_.name()), json::ToJson(spec_, true), 0644);
      return absl::UnavailableError(
          absl::StrCat("drive ", spec_.name(), " (serial ", spec_.serial(), ") was removed during the write"));
    }
    if (cached_bytes_ >= kDestageBytes) RETURN_IF_ERROR(DestageLocked(/*start_writeback=*/true));
  }
  ThrottleWrite(data.size());
  return absl::OkStatus();
}

absl::Status SataDrive::AllocateAligned(std::unique_ptr<char, FreeDeleter>* buf) {
  void* p = nullptr;
  if (::posix_memalign(&p, kDirectAlign, kDirectChunk) != 0) {
    return absl::ResourceExhaustedError("out of memory for the drive's direct I/O buffer");
  }
  buf->reset(static_cast<char*>(p));
  return absl::OkStatus();
}

absl::Status SataDrive::DestageLocked(bool start_writeback) {
  for (const auto& [off, extent] : cache_) {
    if (direct_fd_ >= 0 && off % kDirectAlign == 0 && extent.size() % kDirectAlign == 0) {
      if (!direct_buf_) RETURN_IF_ERROR(AllocateAligned(&direct_buf_));
      size_t done = 0;
      while (done < extent.size()) {
        size_t n = std::min(kDirectChunk, extent.size() - done);
        std::memcpy(direct_buf_.get(), extent.data() + done, n);
        ssize_t w = ::pwrite(direct_fd_, direct_buf_.get(), n, static_cast<off_t>(off + done));
        if (w < 0 && errno == EINTR) continue;
        if (w != static_cast<ssize_t>(n))
          return file::ErrnoStatus(w < 0 ? errno : EIO, "cannot write drive image", bay_);
        done += n;
      }
      continue;
    }
    size_t done = 0;
    while (done < extent.size()) {
      ssize_t n = ::pwrite(fd_, extent.data() + done, extent.size() - done, static_cast<off_t>(off + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return file::ErrnoStatus(n < 0 ? errno : EIO, "cannot write drive image", bay_);
      done += static_cast<size_t>(n);
    }
    if (start_writeback) {
      (void)::sync_file_range(fd_, static_cast<off_t>(off), static_cast<off_t>(extent.size()), SYNC_FILE_RANGE_WRITE);
    }
  }
  cache_.clear();
  cached_bytes_ = 0;
  return absl::OkStatus();
}

absl::Status SataDrive::Flush() {
  {
    MutexLock lock(&mu_);
    if (removed_) {
      ++injected_;
      return absl::UnavailableError(absl::StrCat("drive ", spec_.name(), " was removed"));
    }
    RETURN_IF_ERROR(DestageLocked(/*start_writeback=*/false));
    if (::fdatasync(fd_) != 0) return file::ErrnoStatus(errno, "cannot sync drive image", bay_);
  }
  // The image file's own write time counts as media time: only what the cap asks for beyond it is waited.
  ThrottleFlush();
  return absl::OkStatus();
}

void SataDrive::PowerCut() {
  MutexLock lock(&mu_);
  cache_.clear();
  cached_bytes_ = 0;
}

absl::Status DriveBay::Create(const proto::DriveSpec& in) {
  proto::DriveSpec spec = in;
  if (spec.name().empty() || spec.name().find('/') != std::string::npos) {
    return absl::InvalidArgumentError("drive name must be non-empty and contain no '/'");
  }
  if (spec.sectorsize() == 0) spec.set_sectorsize(512);
  if (spec.sectorsize() != 512 && spec.sectorsize() != 4096) {
    return absl::InvalidArgumentError("sector size must be 512 or 4096");
  }
  if (spec.capacity() == 0 || spec.capacity() % spec.sectorsize()) {
    return absl::InvalidArgumentError("capacity must be a positive multiple of the sector size");
  }
  if (spec.firmware().empty()) spec.set_firmware("VMBK0001");
  spec.set_attached(true);
  RETURN_IF_ERROR(file::MakeDirs(dir_));
  if (file::ReadFile(SpecPath(dir_, spec.name())).ok()) {
    return absl::AlreadyExistsError(absl::StrCat("a drive named ", spec.name(), " is already in the bay"));
  }
  int fd = ::open(ImagePath(dir_, spec.name()).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot create drive image", ImagePath(dir_, spec.name()));
  int rc = ::ftruncate(fd, static_cast<off_t>(spec.capacity()));  // sparse
  ::close(fd);
  if (rc != 0) return file::ErrnoStatus(errno, "cannot size drive image", ImagePath(dir_, spec.name()));
  return file::WriteFileAtomic(SpecPath(dir_, spec.name()), json::ToJson(spec, true), 0644);
}

absl::StatusOr<proto::DriveSpec> DriveBay::Get(const std::string& name) const {
  absl::StatusOr<std::string> text = file::ReadFile(SpecPath(dir_, name));
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("no drive named ", name, " in the bay ", dir_));
  proto::DriveSpec spec;
  RETURN_IF_ERROR(json::Parse(*text, &spec, SpecPath(dir_, name)));
  return spec;
}

absl::Status DriveBay::Update(const proto::DriveSpec& spec) {
  RETURN_IF_ERROR(Get(spec.name()).status());
  return file::WriteFileAtomic(SpecPath(dir_, spec.name()), json::ToJson(spec, true), 0644);
}

absl::StatusOr<std::vector<proto::DriveSpec>> DriveBay::List() const {
  std::vector<proto::DriveSpec> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return absl::NotFoundError(absl::StrCat("no drive bay at ", dir_));
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    absl::string_view n = e->d_name;
    if (absl::ConsumeSuffix(&n, ".drive.json")) names.emplace_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(proto::DriveSpec spec, Get(n));
    out.push_back(spec);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<SataDrive>> DriveBay::Open(const std::string& name) {
  ASSIGN_OR_RETURN(proto::DriveSpec spec, Get(name));
  if (!spec.attached()) {
    return absl::UnavailableError(
        absl::StrCat("drive ", name, " is not attached (it was pulled); `satasim attach ", name, "` puts it back"));
  }
  int fd = ::open(ImagePath(dir_, name).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open drive image", ImagePath(dir_, name));
  return std::unique_ptr<SataDrive>(new SataDrive(dir_, spec, fd, clock_));
}

}  // namespace vmb::sata
