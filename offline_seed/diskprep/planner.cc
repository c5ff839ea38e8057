#include "offline_seed/diskprep/planner.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "offline_seed/diskprep/drive_checks.h"
#include "offline_seed/manifest/drive_manifest.h"

namespace vmb::offline {

absl::StatusOr<std::vector<StagedRange>> PlanRanges(const std::string& staging, const proto::ImportJobRecord& job) {
  std::vector<std::string> images;
  DIR* d = ::opendir((staging + "/images").c_str());
  if (!d) return absl::NotFoundError(absl::StrCat(staging, "/images is missing: the staging location is incomplete"));
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (absl::EndsWith(n, ".vhd")) images.push_back(n);
  }
  ::closedir(d);
  std::sort(images.begin(), images.end());
  std::vector<StagedRange> out;
  for (const std::string& n : images) {
    std::string path = staging + "/images/" + n;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return file::ErrnoStatus(errno, "cannot read", path);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    std::string blob = absl::StrCat(job.container(), "/", job.jobname(), "/", n);
    for (uint64_t off = 0; off < size; off += manifest::kMaxRange) {
      out.push_back({blob, path, size, off, std::min<uint64_t>(manifest::kMaxRange, size - off)});
    }
  }
  return out;
}

void ReplayJournal(const std::vector<proto::DiskPrepRecord>& records, DriveState& d) {
  bool formatted = false;
  for (const auto& r : records) {
    if (r.step() == "formatted") formatted = true, d.prepared.drive_id = r.driveid();
    if (r.step() == "range") {
      d.ranges.push_back(r);
      d.next_offset = std::max(d.next_offset, RoundUp4K(r.volumeoffset() + r.length()));
      d.verified = false;  // ranges after a verify (a later run added data) need a new manifest and verify
    }
    if (r.step() == "full") d.full = true;
    if (r.step() == "manifest") d.prepared.manifest_md5 = r.manifestmd5();
    if (r.step() == "verified") d.verified = true;
    if (r.step() == "rejected") d.rejected = true;
  }
  if (!formatted) d.verified = false;
}

Ledger::Ledger(std::vector<StagedRange> ranges) : ranges_(std::move(ranges)) {
  for (const StagedRange& r : ranges_) total_ += r.length;
}

void Ledger::MarkJournaled(const std::vector<proto::DiskPrepRecord>& ranges) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : ranges) done_.insert(RangeKey(r.blob(), r.offset()));
  done_bytes_ = 0;
  for (const StagedRange& r : ranges_) {
    if (done_.count(RangeKey(r.blob, r.offset))) done_bytes_ += r.length;
  }
}

bool Ledger::QueueRemaining() {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
  for (const StagedRange& r : ranges_) {
    if (!done_.count(RangeKey(r.blob, r.offset))) queue_.push_back(&r);
  }
  return !queue_.empty();
}

const StagedRange* Ledger::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.empty()) return nullptr;
  const StagedRange* next = queue_.front();
  queue_.pop_front();
  return next;
}

void Ledger::GiveBack(const std::vector<const StagedRange*>& ranges) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) queue_.push_front(*it);
}

uint64_t Ledger::MarkWritten(const std::vector<proto::DiskPrepRecord>& ranges) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : ranges) {
    done_.insert(RangeKey(r.blob(), r.offset()));
    done_bytes_ += r.length();
  }
  return done_bytes_;
}

void Ledger::MarkEmpty(const StagedRange& range) {
  std::lock_guard<std::mutex> lock(mu_);
  done_.insert(RangeKey(range.blob, range.offset));
  done_bytes_ += range.length;
}

void Ledger::Forget(const std::vector<proto::DiskPrepRecord>& ranges) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : ranges) {
    if (done_.erase(RangeKey(r.blob(), r.offset()))) done_bytes_ -= r.length();
  }
}

bool Ledger::IsDone(const std::string& blob, uint64_t offset) const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_.count(RangeKey(blob, offset)) > 0;
}

uint64_t Ledger::done_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_bytes_;
}

uint64_t Ledger::RemainingBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t remaining = 0;
  for (const StagedRange& r : ranges_) {
    if (!done_.count(RangeKey(r.blob, r.offset))) remaining += r.length;
  }
  return remaining;
}

namespace {

// A chosen drive that may take part: attached and usable, with a serial no other chosen drive reports.
absl::Status CheckChosen(const std::string& name, const drives::proto::DriveInfo& spec, const std::string& serial_id,
                         const std::vector<std::unique_ptr<DriveState>>& others) {
  std::string refusal = DriveRefusal(spec);
  if (!refusal.empty() && spec.attached()) {
    return absl::FailedPreconditionError(
        absl::StrCat("drive ", name, " (", spec.model(), ", serial ", spec.serial(), ") cannot be used: ", refusal));
  }
  for (const auto& other : others) {
    if (!serial_id.empty() && other->serial_id == serial_id) {
      return absl::FailedPreconditionError(
          absl::StrCat("drives ", other->name, " and ", name, " report the same serial number ", spec.serial(),
                       ": the import job names drives by serial; use drives with their own serial numbers"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PlannedDrives> PlanDrives(DriveEnumerator& source, const std::vector<std::string>& names,
                                         const std::string& journal_dir, Ledger& ledger) {
  PlannedDrives out;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(drives::proto::DriveInfo spec, source.Get(name));
    auto d = std::make_unique<DriveState>();
    d->name = name;
    d->serial_id = DriveIdFromSerial(spec.serial());
    RETURN_IF_ERROR(CheckChosen(name, spec, d->serial_id, out.drives));
    d->prepared.name = name;
    const std::string journal = journal_dir + "/" + name + ".journal";
    if (::access(journal.c_str(), F_OK) == 0) out.resumed = true;
    ASSIGN_OR_RETURN(d->journal, Journal::Open(journal));
    ReplayJournal(Records(*d->journal), *d);
    if (d->rejected) continue;
    ledger.MarkJournaled(d->ranges);
    absl::StatusOr<std::unique_ptr<io::BlockDevice>> device = source.Open(name);
    if (!device.ok()) return WithReattachHint(device.status());
    d->device = *std::move(device);
    out.drives.push_back(std::move(d));
  }
  return out;
}

}  // namespace vmb::offline
