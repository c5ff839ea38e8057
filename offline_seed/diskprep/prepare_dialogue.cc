#include "offline_seed/diskprep/prepare_dialogue.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/cli/sizes.h"
#include "common/file/file_util.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/drive_checks.h"
#include "offline_seed/diskprep/drive_state.h"
#include "offline_seed/diskprep/planner.h"
#include "offline_seed/journal/journal.h"

namespace vmb::offline {
namespace {

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The names in `dir` (no . and ..), sorted; none when it cannot be read.
std::vector<std::string> Entries(const std::string& dir) {
  return file::ListDir(dir).value_or(std::vector<std::string>{});
}

std::string JobLine(const WaitingJob& w) {
  return absl::StrCat(w.job.jobname(), "  (staging location ", w.staging, ", ", cli::HumanBytes(w.job.stagedbytes()),
                      " staged on ", w.job.sourcehost(), " ", w.job.createdat(), ")");
}

std::string DriveLine(const drives::proto::DriveInfo& d, const TakenDrives& taken) {
  std::string why = DriveRefusal(d);
  if (auto t = taken.find(d.name()); t != taken.end()) why = t->second;
  return absl::StrFormat("  %-8s %-24s serial %-16s %9s  %s\" %s %s  %s", d.name(), d.model(), d.serial(),
                         cli::HumanBytes(d.capacity()), d.formfactor().empty() ? "?" : d.formfactor(), d.media(),
                         d.interface(), why.empty() ? "usable" : "not usable: " + why);
}

// The drive an answer names ("sdb", "/dev/sdb" or "sdb:"), or why it cannot be prepared.
std::string RefuseDrive(DriveEnumerator& source, const std::string& answer, const TakenDrives& taken,
                        drives::proto::DriveInfo* chosen) {
  absl::string_view typed = answer;
  absl::ConsumePrefix(&typed, "/dev/");
  absl::ConsumeSuffix(&typed, ":");
  const std::string name(typed);
  if (name.empty()) return "enter a drive's name from the list";
  absl::StatusOr<drives::proto::DriveInfo> d = source.Get(name);
  if (!d.ok()) return std::string(d.status().message());
  if (auto t = taken.find(name); t != taken.end()) {
    return absl::StrCat("drive ", name, " cannot be used: ", t->second, "; choose another drive");
  }
  std::string why = DriveRefusal(*d);
  if (!why.empty()) {
    return absl::StrCat("drive ", name, " (", d->model(), ", serial ", d->serial(), ") cannot be used: ", why,
                        "; choose another drive");
  }
  *chosen = *d;
  return "";
}

// The seed's "confirm the formatting of the drive when asked". False: declined.
absl::StatusOr<bool> ConfirmFormat(Prompter& p, const drives::proto::DriveInfo& d) {
  return p.Confirm(absl::StrCat("Drive ", d.name(), " (", d.model(), ", serial ", d.serial(), ", ",
                                cli::HumanBytes(d.capacity()),
                                ") will be formatted and everything on it is lost. "
                                "Format it?"));
}

// A drive asked for and its formatting confirmed, added to `drives` and `taken`; kCancelled when declined.
absl::Status AddDrive(Prompter& p, DriveEnumerator& source, std::vector<std::string>& drives, TakenDrives& taken,
                      uint64_t remaining) {
  absl::StatusOr<drives::proto::DriveInfo> d = AskDrive(p, source, taken);
  if (!d.ok()) return d.status();
  absl::StatusOr<bool> format = ConfirmFormat(p, *d);
  if (!format.ok()) return format.status();
  if (!*format) {
    return absl::CancelledError(
        drives.empty() ? "nothing was changed"
                       : absl::StrCat("stopped: drive ", d->name(), " was not formatted; ", cli::HumanBytes(remaining),
                                      " of staged data remain. The prepared drives are kept: run the same command "
                                      "again to continue with another drive"));
  }
  drives.push_back(d->name());
  taken[d->name()] = "it is already part of this job";
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<WaitingJob>> WaitingJobs(const std::string& path) {
  absl::StatusOr<proto::ImportJobRecord> here = ReadStagedJob(path);
  if (here.ok()) return std::vector<WaitingJob>{{path, *here}};
  std::vector<WaitingJob> out;
  for (const std::string& n : Entries(path)) {
    const std::string staging = absl::StrCat(path, "/", n);
    if (!Exists(staging + "/offline-job.json") || Exists(staging + "/shipping.json")) continue;
    absl::StatusOr<proto::ImportJobRecord> job = ReadStagedJob(staging);
    if (job.ok()) out.push_back({staging, *job});
  }
  if (out.empty()) return here.status();
  return out;
}

absl::StatusOr<std::string> ChooseImportJob(Prompter* p, const std::string& path) {
  absl::StatusOr<std::vector<WaitingJob>> jobs = WaitingJobs(path);
  if (!jobs.ok()) return jobs.status();
  if (jobs->size() == 1) {
    if (p != nullptr)
      p->Say(absl::StrCat("Azure import job: ", JobLine(jobs->front()), "\n  the only one waiting at ", path,
                          ": its drives are prepared now."));
    return jobs->front().staging;
  }
  if (p == nullptr) {
    std::vector<std::string> each;
    for (const WaitingJob& w : *jobs) each.push_back(absl::StrCat(w.job.jobname(), ": s:", w.staging));
    return absl::FailedPreconditionError(absl::StrCat(path, " holds ", jobs->size(), " import jobs waiting (",
                                                      absl::StrJoin(each, ", "), "): name one with its s:"));
  }
  p->Say(absl::StrCat("Import jobs waiting at ", path, ":"));
  std::vector<std::string> items;
  for (const WaitingJob& w : *jobs) items.push_back(JobLine(w));
  absl::StatusOr<size_t> i = p->Choose("Which Azure import job are the drives you are preparing for?", items);
  if (!i.ok()) return i.status();
  return (*jobs)[*i].staging;
}

absl::StatusOr<drives::proto::DriveInfo> AskDrive(Prompter& p, DriveEnumerator& source, const TakenDrives& taken) {
  absl::StatusOr<std::vector<drives::proto::DriveInfo>> list = source.List();
  if (!list.ok()) return list.status();
  p.Say("Drives of this computer:");
  for (const auto& d : *list) p.Say(DriveLine(d, taken));
  drives::proto::DriveInfo chosen;
  absl::StatusOr<std::string> answer =
      p.Ask("Enter the name of the drive to prepare for the transfer to Azure (as listed, without /dev/): ",
            [&](const std::string& a) { return RefuseDrive(source, a, taken, &chosen); });
  if (!answer.ok()) return answer.status();
  return chosen;
}

std::vector<std::string> JournaledDrives(const std::string& staging) {
  std::vector<std::string> out;
  const std::string dir = staging + "/diskprep";
  for (const std::string& n : Entries(dir)) {
    if (!absl::EndsWith(n, ".journal")) continue;
    absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir + "/" + n);
    if (!journal.ok()) continue;
    DriveState d;
    ReplayJournal(Records(**journal), d);
    if (!d.rejected) out.push_back(std::string(absl::StripSuffix(n, ".journal")));
  }
  return out;
}

absl::StatusOr<DiskPrepResult> PrepareInteractively(Prompter& p, DiskPrepOptions o, const Preparer& prepare) {
  std::vector<std::string> drives = JournaledDrives(o.staging);
  TakenDrives taken;
  for (const std::string& d : drives) taken[d] = "it is already part of this job";
  if (!drives.empty()) {
    p.Say(absl::StrCat("Continuing with the drives of an earlier run: ", absl::StrJoin(drives, ", "),
                       " (resumed from their journals, not formatted again)."));
  } else if (absl::Status added = AddDrive(p, *o.drive_source, drives, taken, 0); !added.ok()) {
    return added;
  }
  o.return_when_full = true;
  for (;;) {
    o.drives = drives;
    absl::StatusOr<DiskPrepResult> r = prepare(o);
    if (!r.ok()) return r.status();
    for (const std::string& rejected : r->rejected) {
      const std::string name = rejected.substr(0, rejected.find(": "));
      p.Say(RejectionReason(rejected));
      drives.erase(std::remove(drives.begin(), drives.end(), name), drives.end());
      taken[name] = "it was rejected (see above)";
    }
    if (r->remaining_bytes == 0) return r;
    p.Say(absl::StrCat("There is not enough space on the chosen drive(s) for the backup data: ",
                       cli::HumanBytes(r->remaining_bytes), " remain."));
    absl::StatusOr<bool> more = p.Confirm("Attach another drive, then continue with it?");
    if (!more.ok()) return more.status();
    if (!*more) {
      return absl::CancelledError(absl::StrCat("stopped: ", cli::HumanBytes(r->remaining_bytes),
                                               " of staged data remain. The prepared drives are kept: "
                                               "run the same command again and attach another drive when asked"));
    }
    absl::Status added = AddDrive(p, *o.drive_source, drives, taken, r->remaining_bytes);
    if (!added.ok()) return added;
  }
}

}  // namespace vmb::offline
