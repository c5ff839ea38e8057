#include "offline_seed/diskprep/job_submitter.h"

#include "absl/strings/str_cat.h"
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

}  // namespace

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
    // Created by an earlier run of this staging location, or another server's job of the same name: only the
    // first is this job.
    auto tag = existing->tags().find(kItemTag);
    if (tag == existing->tags().end() || tag->second != staged.itemid()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "the import job ", staged.jobname(), " already exists in subscription ", staged.subscriptionid(),
          " and was not prepared from this staging location (another server uses that name); the drives are "
          "prepared but no job was created for them. Stage the backup again with a new job name"));
    }
    out.job = *std::move(existing);
  } else {
    ASSIGN_OR_RETURN(out.job, service.CreateJob(ref, NewJob(staged, account, drives)));
  }
  ASSIGN_OR_RETURN(out.location, service.GetLocation(account.location()));
  return out;
}

}  // namespace vmb::offline
