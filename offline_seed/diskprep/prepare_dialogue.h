// `diskprep s:` on a terminal, as seed 004 describes AzureOfflineBackupDiskPrep: it asks which import job the drives
// are for (when the staging location holds several waiting; with one, it says which), which drive to prepare (this
// computer's drives listed with size, model and serial; an unsuitable one is refused with the reason and the
// question asked again), to confirm that the drive is formatted, and, when the data does not fit, to attach another
// drive and choose it: the same job continues on it (PrepareDrives resumes from the journals and spans). Scripts
// answer the same questions with flags (s:<exact staging location>, --drive, --yes); see cli.cc.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_PREPARE_DIALOGUE_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_PREPARE_DIALOGUE_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/diskprep/dialogue.h"
#include "offline_seed/diskprep/diskprep.h"
#include "offline_seed/drives/drive_source.h"

namespace vmb::offline {

struct WaitingJob {
  std::string staging;  // its staging location
  proto::ImportJobRecord job;
};

// The import jobs waiting at `path` (s:): the staging location itself when it is one; else (a share holding one
// staging location per server or job) those in its subfolders whose shipping details are not yet entered (no
// shipping.json), by folder name. kNotFound (ReadStagedJob's message) when there is none.
absl::StatusOr<std::vector<WaitingJob>> WaitingJobs(const std::string& path);

// The staging location whose drives are prepared. One job waiting: it (said through `prompter` when there is one).
// Several: asked through `prompter`, or without one (no terminal) kFailedPrecondition naming each job's s:.
absl::StatusOr<std::string> ChooseImportJob(Prompter* prompter, const std::string& path);

// Drives that cannot be chosen again in this dialogue, with why ("it is already part of this job").
using TakenDrives = std::map<std::string, std::string>;

// Asks which drive to prepare, after listing `source`'s drives. Refused, with the reason, and asked again: a name
// that is no drive, a drive DriveRefusal refuses, one in `taken`.
absl::StatusOr<drives::proto::DriveInfo> AskDrive(Prompter& prompter, DriveEnumerator& source,
                                                  const TakenDrives& taken);

// The drives an earlier run of this staging location wrote (their journals), except those it rejected.
std::vector<std::string> JournaledDrives(const std::string& staging);

using Preparer = std::function<absl::StatusOr<DiskPrepResult>(const DiskPrepOptions&)>;

// The dialogue around `prepare` (PrepareDrives) for `o` (its staging location chosen, no drives): the drives of an
// earlier run are taken again; otherwise a drive is asked for and its formatting confirmed; then `prepare` runs
// (return_when_full). Drives it rejected are reported by name and reason. While data remains, the admin is asked
// to attach another drive, which is chosen and confirmed, and `prepare` runs again with it added. kCancelled
// ("nothing was changed" / "stopped: ...", saying how to go on) when the admin declines or ends the input; the
// prepared drives are kept.
absl::StatusOr<DiskPrepResult> PrepareInteractively(Prompter& prompter, DiskPrepOptions o, const Preparer& prepare);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_PREPARE_DIALOGUE_H_
