#include "offline_seed/diskprep/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/concurrent/bounded_pool.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/diskprep/drive_checks.h"
#include "offline_seed/manifest/drive_manifest.h"

namespace vmb::offline {
namespace {

// A new drive: the capacity probe, a volume with a new recovery password (kept at `key_path`), "formatted".
absl::Status Format(DriveState& d, const std::string& key_path, const std::string& job_name, uint64_t kdf_n) {
  absl::Status probed =
      ProbeCapacity(*d.device, d.serial_id.empty() ? d.name : absl::StrCat(d.name, " (serial ", d.serial_id, ")"));
  if (!probed.ok()) return WithReattachHint(probed);
  // The drive's id in the job is its hardware serial (a drive that reports none gets a random one).
  FormatOptions fo{d.serial_id.empty() ? crypto::Base16Encode(crypto::SecureRandom().Bytes(4), true) : d.serial_id,
                   job_name, kdf_n};
  absl::StatusOr<Formatted> f = FormatVolume(*d.device, fo);
  if (!f.ok()) return WithReattachHint(f.status());
  // The password before the journal entry: a crash in between only means formatting again.
  RETURN_IF_ERROR(file::WriteFileAtomic(key_path, f->password.ToString(), 0600));
  proto::DiskPrepRecord rec;
  rec.set_step("formatted");
  rec.set_driveid(fo.drive_id);
  RETURN_IF_ERROR(AppendRecord(*d.journal, rec));
  d.prepared.drive_id = fo.drive_id;
  return absl::OkStatus();
}

// Reads a range into `buf` (a pooled buffer of at least its padded length), which is left holding exactly it.
absl::Status ReadRange(const StagedRange& r, std::string& buf) {
  int fd = ::open(r.image_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot open", r.image_path);
  buf.resize(r.length);
  ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(r.offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(buf.size())) return absl::DataLossError(absl::StrCat("short read from ", r.image_path));
  return absl::OkStatus();
}

// A range read from the staging location with its MD5 (upper-case hex, as the manifest has it); an empty MD5 for an
// all-zero range (nothing to ship).
struct Hashed {
  const StagedRange* range;
  std::shared_ptr<std::string> data;
  absl::Status read;
  std::string md5;
};

Hashed ReadAndHash(const StagedRange* r, std::shared_ptr<std::string> buf) {
  Hashed h{r, std::move(buf), absl::OkStatus(), ""};
  h.read = ReadRange(*r, *h.data);
  if (h.read.ok() && h.data->find_first_not_of('\0') != std::string::npos) {
    h.md5 = crypto::Base16Encode(crypto::Md5(*h.data), true);
  }
  return h;
}

// One drive's copy (CopyToDrive). Reading and hashing run ahead of the drive on `hashers` threads (MD5 is the
// costliest step: one thread keeps ~700 MB/s, below what a drive takes), and their results are used in the order
// the ranges were taken. One writer thread runs, in order: the range writes (encrypt + write) and, after each batch,
// the flush that makes it durable and the journal records for it; up to 4 are queued for it, so a flush never
// stops the pipeline.
class DriveCopy {
 public:
  DriveCopy(DriveState& d, Ledger& ledger, const CopyOptions& o) : d_(d), ledger_(ledger), o_(o) {}
  absl::Status Run();

 private:
  void Refill();
  void GiveBack(const StagedRange* first);
  void Write(Hashed h, uint64_t padded);
  absl::Status Commit(bool wait);
  absl::Status JournalBatch(const std::vector<proto::DiskPrepRecord>& batch);
  absl::Status Full(const StagedRange* r);

  DriveState& d_;
  Ledger& ledger_;
  const CopyOptions& o_;
  std::vector<proto::DiskPrepRecord> pending_;  // written, not yet flushed and journaled
  uint64_t pending_bytes_ = 0;
  concurrent::BoundedPool writer_{1, 4};  // destroyed (its queued jobs run) before the members above they use
  std::deque<std::future<Hashed>> ahead_;
};

absl::Status DriveCopy::Run() {
  for (;;) {
    Refill();
    if (ahead_.empty()) break;
    Hashed h = ahead_.front().get();
    ahead_.pop_front();
    const StagedRange* r = h.range;
    if (!h.read.ok()) {  // the staging location, not the drive: never a reason to reject the drive
      GiveBack(r);
      return absl::FailedPreconditionError(absl::StrCat("cannot read the staging location: ", h.read.message()));
    }
    if (h.md5.empty()) {
      ledger_.MarkEmpty(*r);  // all-zero: nothing to ship
      continue;
    }
    uint64_t padded = RoundUp4K(h.data->size());
    if (d_.next_offset + padded > d_.volume->size()) return Full(r);
    if (writer_.failed()) {
      GiveBack(r);
      return Commit(/*wait=*/true);  // reports the write error, drive removed
    }
    Write(std::move(h), padded);
    if (pending_bytes_ >= o_.batch_bytes) RETURN_IF_ERROR(Commit(/*wait=*/false));
  }
  return Commit(/*wait=*/true);
}

void DriveCopy::Refill() {
  while (ahead_.size() < std::max<size_t>(1, o_.hashers)) {
    const StagedRange* next = ledger_.Take();
    if (next == nullptr) return;
    ahead_.push_back(std::async(std::launch::async, ReadAndHash, next, o_.buffers->Get()));
  }
}

// Ranges taken but not written go back to the front of the queue, in order, for this drive or another.
void DriveCopy::GiveBack(const StagedRange* first) {
  std::vector<const StagedRange*> back = {first};
  for (auto& f : ahead_) back.push_back(f.get().range);
  ahead_.clear();
  ledger_.GiveBack(back);
}

void DriveCopy::Write(Hashed h, uint64_t padded) {
  const StagedRange* r = h.range;
  proto::DiskPrepRecord rec;
  rec.set_step("range");
  rec.set_blob(r->blob);
  rec.set_offset(r->offset);
  rec.set_length(r->length);
  rec.set_md5(std::move(h.md5));
  rec.set_volumeoffset(d_.next_offset);
  std::shared_ptr<std::string> buf = std::move(h.data);
  buf->resize(padded, '\0');
  EncryptedVolume* volume = d_.volume.get();
  writer_.Submit([volume, at = d_.next_offset, buf = std::move(buf)] { return volume->Write(at, *buf); });
  pending_.push_back(std::move(rec));
  pending_bytes_ += padded;
  d_.next_offset += padded;
}

// Queues the flush and journal records for the writes so far; with `wait`, waits for the writer.
absl::Status DriveCopy::Commit(bool wait) {
  if (!pending_.empty()) {
    auto batch = std::make_shared<std::vector<proto::DiskPrepRecord>>(std::move(pending_));
    pending_.clear();
    pending_bytes_ = 0;
    writer_.Submit([this, batch] { return JournalBatch(*batch); });
  }
  if (!wait) return absl::OkStatus();
  absl::Status ws = writer_.Drain();
  return ws.ok() ? ws : WithReattachHint(ws);  // the unjournaled ranges are queued again by the next round or run
}

// On the writer thread, after the batch's writes.
absl::Status DriveCopy::JournalBatch(const std::vector<proto::DiskPrepRecord>& batch) {
  RETURN_IF_ERROR(d_.volume->Flush());
  for (const auto& rec : batch) {
    RETURN_IF_ERROR(AppendRecord(*d_.journal, rec));
    d_.ranges.push_back(rec);
  }
  uint64_t now_done = ledger_.MarkWritten(batch);
  d_.verified = false;
  if (o_.progress) o_.progress(d_.name, now_done, ledger_.total_bytes());
  return absl::OkStatus();
}

// No room for `r`: it and the ranges read ahead go back for a drive with room.
absl::Status DriveCopy::Full(const StagedRange* r) {
  GiveBack(r);
  RETURN_IF_ERROR(Commit(/*wait=*/true));
  d_.full = true;
  proto::DiskPrepRecord rec;
  rec.set_step("full");
  return AppendRecord(*d_.journal, rec);
}

// The manifest and the region table of a drive's ranges.
absl::StatusOr<proto::DriveContents> Contents(const DriveState& d, const std::vector<StagedRange>& plan) {
  manifest::DriveManifest m;
  m.drive_id = d.prepared.drive_id;
  proto::DriveContents contents;
  std::map<std::string, size_t> blob_index;
  for (const auto& r : d.ranges) {
    if (!blob_index.count(r.blob())) {
      blob_index[r.blob()] = m.blobs.size();
      manifest::BlobEntry b;
      b.blob_path = r.blob();
      b.file_path = "\\" + absl::StrReplaceAll(r.blob(), {{"/", "\\"}});
      for (const StagedRange& p : plan) {
        if (p.blob == r.blob()) b.length = p.blob_length;
      }
      m.blobs.push_back(b);
    }
    m.blobs[blob_index[r.blob()]].ranges.push_back({r.offset(), r.length(), r.md5()});
    auto* region = contents.add_regions();
    region->set_blob(r.blob());
    region->set_offset(r.offset());
    region->set_length(r.length());
    region->set_volumeoffset(r.volumeoffset());
  }
  for (auto& b : m.blobs) {
    std::sort(b.ranges.begin(), b.ranges.end(), [](const auto& x, const auto& y) { return x.offset < y.offset; });
  }
  ASSIGN_OR_RETURN(std::string xml, manifest::Serialize(m));
  contents.set_manifestxml(xml);
  return contents;
}

}  // namespace

absl::Status OpenVolume(DriveState& d, const std::string& key_dir, const std::string& job_name, uint64_t kdf_n) {
  const std::string key_path = key_dir + "/" + d.name + ".recovery-password";
  if (d.prepared.drive_id.empty()) RETURN_IF_ERROR(Format(d, key_path, job_name, kdf_n));
  ASSIGN_OR_RETURN(std::string password_text, file::ReadFile(key_path));
  ASSIGN_OR_RETURN(crypto::RecoveryPassword password, crypto::RecoveryPassword::Parse(password_text));
  d.prepared.recovery_password = password.ToString();
  absl::StatusOr<std::unique_ptr<EncryptedVolume>> volume = EncryptedVolume::Unlock(*d.device, password);
  if (!volume.ok()) return WithReattachHint(volume.status());
  d.volume = *std::move(volume);
  d.prepared.header_hash = DriveHeaderHash(d.volume->header());
  return absl::OkStatus();
}

absl::Status CopyToDrive(DriveState& drive, Ledger& ledger, const CopyOptions& options) {
  DriveCopy copy(drive, ledger, options);
  return copy.Run();
}

absl::StatusOr<std::string> WriteManifest(DriveState& d, const std::vector<StagedRange>& plan) {
  ASSIGN_OR_RETURN(proto::DriveContents contents, Contents(d, plan));
  std::string area = json::ToJson(contents);
  if (area.size() > kManifestArea) return absl::ResourceExhaustedError("the manifest does not fit its area");
  area.resize(RoundUp4K(area.size() + 1), '\0');
  absl::Status s = d.volume->Write(0, area);
  if (s.ok()) s = d.volume->Flush();
  if (!s.ok()) return WithReattachHint(s);
  d.prepared.manifest_md5 = crypto::Base16Encode(crypto::Md5(contents.manifestxml()), true);
  proto::DiskPrepRecord rec;
  rec.set_step("manifest");
  rec.set_manifestmd5(d.prepared.manifest_md5);
  RETURN_IF_ERROR(AppendRecord(*d.journal, rec));
  return area;
}

}  // namespace vmb::offline
