#include "offline_seed/diskprep/diskprep.h"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/cli/sizes.h"
#include "common/concurrent/buffer_pool.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/job_submitter.h"
#include "offline_seed/diskprep/planner.h"
#include "offline_seed/diskprep/verifier.h"
#include "offline_seed/diskprep/writer.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/manifest/drive_manifest.h"
#include "offline_seed/publish/publish_settings.h"

namespace vmb::offline {
namespace {

// The staging location's job, once the publish settings of its subscription load: p: when given, else the file the
// staging location names, which only the computer that wrote it (the source computer) may use.
absl::StatusOr<proto::ImportJobRecord> LoadStagedJob(const DiskPrepOptions& o) {
  ASSIGN_OR_RETURN(proto::ImportJobRecord staged, ReadStagedJob(o.staging));
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::string publish = o.publish_settings.empty() ? staged.publishsettingspath() : o.publish_settings;
  if (o.publish_settings.empty() && staged.sourcehost() != host) {
    return absl::InvalidArgumentError(absl::StrCat("this is not the source computer (", staged.sourcehost(),
                                                   "): pass the publish settings file with p:<file>"));
  }
  RETURN_IF_ERROR(LoadSubscription(publish, staged.subscriptionid()).status());
  return staged;
}

// Why a run ends with data on no drive: the drives rejected in it, by their reasons (a counterfeit drive is not
// "full"), else the chosen drives are full; then what remains and the way out.
std::string ShortOfRoom(const DiskPrepResult& result, uint64_t remaining) {
  std::string why;
  for (const std::string& r : result.rejected) absl::StrAppend(&why, why.empty() ? "" : "; ", RejectionReason(r));
  if (why.empty()) why = "the chosen drives are full";
  return absl::StrCat(why, "; ", cli::HumanBytes(remaining),
                      " of staged data remain. Attach another drive and run "
                      "the same command with it added (--drive NAME): the prepared drives are kept");
}

// Threads for reading and hashing (or checking) per drive while `drives` drives work at once: every core, shared.
size_t CoresPerDrive(size_t drives) {
  return std::max<size_t>(1, std::thread::hardware_concurrency() / std::max<size_t>(1, drives));
}

// The chosen drives through one run, all drives at once at each step: volumes opened (new drives formatted, the
// last durable range of a resumed one re-checked); then rounds of copy (one thread per drive with room, each taking
// the next range from the Ledger's one queue, so two drives fill at the same time) and of manifest and verify for
// every drive that got ranges. A drive that lost data (kDataLoss: bad sectors, a failed read-back or verify) is
// rejected: journaled as such, its ranges go back to the Ledger and the round repeats with the others.
class Preparation {
 public:
  Preparation(const DiskPrepOptions& o, const proto::ImportJobRecord& staged, std::string dir, Ledger& ledger,
              std::vector<std::unique_ptr<DriveState>> drives, DiskPrepResult& result)
      : o_(o), staged_(staged), dir_(std::move(dir)), ledger_(ledger), drives_(std::move(drives)), result_(result) {}

  absl::Status OpenVolumes();
  absl::Status CopyAndVerify();
  // The drives that hold ranges, as the import job lists them.
  std::vector<PreparedDrive> Prepared();

 private:
  using Work = std::function<absl::Status(DriveState&)>;
  absl::Status OnEach(const std::vector<DriveState*>& which, const Work& work);
  absl::Status Reject(DriveState& d, const absl::Status& why);
  std::vector<DriveState*> Usable(bool need_room);
  absl::Status Copy();
  absl::Status ManifestAndVerify();

  const DiskPrepOptions& o_;
  const proto::ImportJobRecord& staged_;
  const std::string dir_;
  Ledger& ledger_;
  std::vector<std::unique_ptr<DriveState>> drives_;
  DiskPrepResult& result_;
  // Range buffers, reused: at most (read ahead + queued for the writer + being written) per drive are ever made, so
  // memory does not grow with the size of the job.
  concurrent::BufferPool buffers_{RoundUp4K(manifest::kMaxRange)};
};

// Runs `work` on every drive at once; DataLoss rejects the drive, the first other error is returned.
absl::Status Preparation::OnEach(const std::vector<DriveState*>& which, const Work& work) {
  std::vector<absl::Status> outcome(which.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < which.size(); ++i) threads.emplace_back([&, i] { outcome[i] = work(*which[i]); });
  for (auto& t : threads) t.join();
  absl::Status first;
  for (size_t i = 0; i < which.size(); ++i) {
    if (outcome[i].code() == absl::StatusCode::kDataLoss) {
      RETURN_IF_ERROR(Reject(*which[i], outcome[i]));
    } else if (first.ok() && !outcome[i].ok()) {
      first = outcome[i];
    }
  }
  return first;
}

absl::Status Preparation::Reject(DriveState& d, const absl::Status& why) {
  proto::DiskPrepRecord rej;
  rej.set_step("rejected");
  rej.set_md5(std::string(why.message()).substr(0, 200));
  RETURN_IF_ERROR(AppendRecord(*d.journal, rej));
  ledger_.Forget(d.ranges);
  d.rejected = true;
  result_.rejected.push_back(absl::StrCat(d.name, ": ", why.message()));  // RejectionReason() takes the name off
  return absl::OkStatus();
}

std::vector<DriveState*> Preparation::Usable(bool need_room) {
  std::vector<DriveState*> out;
  for (auto& d : drives_) {
    if (!d->rejected && !(need_room && d->full)) out.push_back(d.get());
  }
  return out;
}

absl::Status Preparation::OpenVolumes() {
  return OnEach(Usable(false), [&](DriveState& d) -> absl::Status {
    RETURN_IF_ERROR(OpenVolume(d, dir_, staged_.jobname(), o_.kdf_n));
    return CheckLastDurableRange(d);
  });
}

absl::Status Preparation::CopyAndVerify() {
  for (;;) {
    size_t rejected_before = result_.rejected.size();
    if (ledger_.QueueRemaining() && !Usable(true).empty()) {
      RETURN_IF_ERROR(Copy());
      // A drive that filled up gave back the ranges it had taken, perhaps after another drive with room had found
      // the queue empty and stopped: those go to the drives with room in another copy round.
      bool left = ledger_.RemainingBytes() > 0;
      if (left && result_.rejected.size() == rejected_before && !Usable(true).empty()) continue;
    }
    RETURN_IF_ERROR(ManifestAndVerify());
    if (result_.rejected.size() == rejected_before) return absl::OkStatus();  // nothing given back: done
  }
}

absl::Status Preparation::Copy() {
  std::vector<DriveState*> with_room = Usable(true);
  CopyOptions co;
  co.buffers = &buffers_;
  co.hashers = CoresPerDrive(with_room.size());
  co.progress = o_.progress;
  absl::Time start = absl::Now();
  absl::Status copied = OnEach(with_room, [&](DriveState& d) { return CopyToDrive(d, ledger_, co); });
  result_.copy_time += absl::Now() - start;
  return copied;
}

absl::Status Preparation::ManifestAndVerify() {
  std::vector<DriveState*> to_finish;
  for (DriveState* d : Usable(false)) {
    if (!d->verified && !d->ranges.empty()) to_finish.push_back(d);
  }
  const size_t checks_in_flight = CoresPerDrive(to_finish.size());
  absl::Time start = absl::Now();
  RETURN_IF_ERROR(OnEach(to_finish, [&](DriveState& d) -> absl::Status {
    ASSIGN_OR_RETURN(std::string area, WriteManifest(d, ledger_.ranges()));
    return VerifyDrive(d, area, buffers_, checks_in_flight);
  }));
  result_.verify_time += absl::Now() - start;
  return absl::OkStatus();
}

std::vector<PreparedDrive> Preparation::Prepared() {
  std::vector<PreparedDrive> out;
  for (DriveState* d : Usable(false)) {
    if (d->ranges.empty()) continue;  // nothing on it: not part of the package
    PreparedDrive prepared = d->prepared;
    for (const auto& r : d->ranges) prepared.bytes += r.length(), ++prepared.ranges;
    out.push_back(prepared);
  }
  return out;
}

}  // namespace

std::string RejectionReason(const std::string& rejected) {
  const size_t colon = rejected.find(": ");
  if (colon == std::string::npos) return rejected;
  const std::string name = rejected.substr(0, colon), why = rejected.substr(colon + 2);
  if (absl::StrContains(why, "drive " + name)) return why;
  return absl::StrCat("drive ", name, " was rejected: ", why);
}

absl::StatusOr<DiskPrepResult> PrepareDrives(const DiskPrepOptions& o) {
  ASSIGN_OR_RETURN(proto::ImportJobRecord staged, LoadStagedJob(o));
  if (o.drives.empty()) return absl::InvalidArgumentError("no drive chosen (--drive NAME, repeatable)");
  ASSIGN_OR_RETURN(std::vector<StagedRange> ranges, PlanRanges(o.staging, staged));
  Ledger ledger(std::move(ranges));
  const std::string dir = o.staging + "/diskprep";
  RETURN_IF_ERROR(file::MakeDirs(dir, 0700));
  if (o.drive_source == nullptr) return absl::InvalidArgumentError("no drive source given");
  ASSIGN_OR_RETURN(PlannedDrives planned, PlanDrives(*o.drive_source, o.drives, dir, ledger));

  ie::ArmImportJobClient service(o.transport, o.control_plane, o.token);
  std::vector<ChosenDrive> chosen;
  for (const auto& d : planned.drives) {
    chosen.push_back({d->name, d->prepared.drive_id.empty() ? d->serial_id : d->prepared.drive_id});
  }
  RETURN_IF_ERROR(CheckExistingJob(service, staged, o.resource_group, chosen));  // before anything is formatted

  DiskPrepResult result;
  result.resumed = planned.resumed;
  Preparation preparation(o, staged, dir, ledger, std::move(planned.drives), result);
  RETURN_IF_ERROR(preparation.OpenVolumes());
  RETURN_IF_ERROR(preparation.CopyAndVerify());
  result.drives = preparation.Prepared();
  if (uint64_t remaining = ledger.RemainingBytes(); remaining > 0) {
    if (o.return_when_full) {
      result.remaining_bytes = remaining;
      return result;
    }
    return absl::ResourceExhaustedError(ShortOfRoom(result, remaining));
  }
  ASSIGN_OR_RETURN(SubmittedJob submitted, SubmitImportJob(service, staged, o.resource_group, result.drives));
  result.job = std::move(submitted.job);
  result.location = std::move(submitted.location);
  return result;
}

}  // namespace vmb::offline
