#include "offline_seed/diskprep/job_submitter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/staging.h"

namespace vmb::offline {
namespace {

// A new job for `drives` in the storage account `account`, tied to the staging location by its item id.
ie::proto::Job NewJob(const proto::ImportJobRecord& staged, const ie::proto::StorageAccount& account,
                      const std::vector<PreparedDrive>& drives) {
  ie::proto::Job job;
  job.set_location(account.location());
  (*job.mutable_tags())[kItemTag] = staged.itemid();  // ties the job to this staging location
  if (!staged.sourcehost().empty()) (*job.mutable_tags())[kSourceHostTag] = staged.sourcehost();
  auto* p = job.mutable_properties();
  p->set_storageaccountid(account.id());
  p->set_jobtype("Import");
  p->set_backupdrivemanifest(true);
  p->set_diagnosticspath("waimportexport");
  p->set_loglevel("Verbose");  // per-range verbose logs beside the error logs: repair reads them
  for (const PreparedDrive& d : drives) {
    auto* ds = p->add_drivelist();
    ds->set_driveid(d.drive_id);
    ds->set_bitlockerkey(d.recovery_password);
    ds->set_manifestfile("\\DriveManifest.xml");
    ds->set_manifesthash(d.manifest_md5);
    ds->set_driveheaderhash(d.header_hash);
  }
  return job;
}

absl::Status OtherServersJob(const proto::ImportJobRecord& staged, const std::string& outcome) {
  return absl::AlreadyExistsError(
      absl::StrCat("the import job ", staged.jobname(), " already exists in subscription ", staged.subscriptionid(),
                   " and was not prepared from this staging location (another server uses that name); ", outcome,
                   ". Stage the backup again with a new job name"));
}

bool FromThisStaging(const ie::proto::Job& job, const proto::ImportJobRecord& staged) {
  auto tag = job.tags().find(kItemTag);
  return tag != job.tags().end() && tag->second == staged.itemid();
}

}  // namespace

absl::Status CheckExistingJob(ie::ImportJobService& service, const proto::ImportJobRecord& staged,
                              const std::string& resource_group, const std::vector<ChosenDrive>& chosen) {
  absl::StatusOr<ie::proto::Job> job =
      service.GetJob(ie::JobRef{staged.subscriptionid(), resource_group, staged.jobname()});
  if (absl::IsNotFound(job.status())) return absl::OkStatus();
  if (!job.ok()) return job.status();
  if (!FromThisStaging(*job, staged)) return OtherServersJob(staged, "no drive was formatted");
  if (job->properties().cancelrequested()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the import job ", staged.jobname(), " of this staging location was cancelled (state ",
        job->properties().state(), "); no drive was formatted. Stage the backup again with a new job name"));
  }
  std::vector<std::string> listed;
  for (const auto& d : job->properties().drivelist()) listed.push_back(d.driveid());
  for (const ChosenDrive& c : chosen) {
    if (!c.drive_id.empty() && std::find(listed.begin(), listed.end(), c.drive_id) != listed.end()) continue;
    return absl::FailedPreconditionError(absl::StrCat(
        "the import job ", staged.jobname(), " was already created from this staging location (state ",
        job->properties().state(), ") and its drive", listed.size() == 1 ? " " : "s ", absl::StrJoin(listed, ", "),
        listed.size() == 1 ? " holds" : " hold", " all the staged data; drive ", c.name,
        c.drive_id.empty() ? "" : absl::StrCat(" (", c.drive_id, ")"),
        " is not in it and nothing was written to it. Run diskprep again with the job's drives only, or ship them "
        "and enter the shipping details with `diskprep u:`; to start over on other drives, cancel the job "
        "(`diskprep u: --cancel`) and stage the backup again with a new job name"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SubmittedJob> SubmitImportJob(ie::ImportJobService& service, const proto::ImportJobRecord& staged,
                                             const std::string& resource_group,
                                             const std::vector<PreparedDrive>& drives) {
  if (drives.size() > 10) return absl::FailedPreconditionError("an import job takes at most 10 drives");
  ie::JobRef ref{staged.subscriptionid(), resource_group, staged.jobname()};
  ASSIGN_OR_RETURN(ie::proto::StorageAccount account,
                   service.GetStorageAccount(staged.subscriptionid(), resource_group, staged.storageaccount()));
  SubmittedJob out;
  absl::StatusOr<ie::proto::Job> existing = service.GetJob(ref);
  if (existing.ok()) {
    // Created by an earlier run of this staging location, or another server's job of the same name (created since
    // CheckExistingJob): only the first is this job.
    if (!FromThisStaging(*existing, staged)) {
      return OtherServersJob(staged, "the drives are prepared but no job was created for them");
    }
    out.job = *std::move(existing);
  } else {
    ASSIGN_OR_RETURN(out.job, service.CreateJob(ref, NewJob(staged, account, drives)));
  }
  ASSIGN_OR_RETURN(out.location, service.GetLocation(account.location()));
  return out;
}

}  // namespace vmb::offline
