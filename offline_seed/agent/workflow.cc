#include "offline_seed/agent/workflow.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "offline_seed/agent/agent_output.pb.h"
#include "offline_seed/agent/catalogue_file.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/agent/tree.h"
#include "offline_seed/certgen/certgen.h"
#include "offline_seed/import_job/names.h"
#include "offline_seed/publish/publish_settings.h"
#include "offline_seed/repair/repair.h"

namespace vmb::offline {
namespace {

constexpr char kWaiting[] =
    "Waiting for Azure Import Job to complete. Please check on Azure Management portal for more information on job "
    "status";

// What the staged commands share: the request, the staging location's job, its endpoints and vault.
struct Staged {
  AgentRequest& request;
  const Console& console;
  const proto::ImportJobRecord& job;
  Endpoints& endpoints;
  vault::Vault& vault;
  const std::string& staging() { return request.opt["staging"]; }
};

int RunRestore(Staged& s, int point) {
  const Console& c = s.console;
  absl::Time start = absl::Now();
  RestoreReport report;
  absl::Status status = s.vault.Restore(point, s.request.opt["target"], 4, &report);
  if (c.tty) std::fprintf(c.err, "\n");
  if (!status.ok()) return Fail(c, status);
  ReportRestore(c, report);
  std::fprintf(c.out, "restored recovery point %d into %s in %.1f s\n", point, s.request.opt["target"].c_str(),
               absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

RepairOptions RepairFor(Staged& s) {
  return RepairOptions{s.staging(),          s.endpoints.control_plane, s.endpoints.token,
                       "offlinebackup",      s.endpoints.storage.get(), s.endpoints.account,
                       s.endpoints.transport};
}

int RunRepair(Staged& s) {
  auto r = RepairImport(RepairFor(s));
  if (!r.ok()) return Fail(s.console, r.status());
  for (const std::string& d : r->drives) std::fprintf(s.console.out, "drive %s\n", d.c_str());
  std::fprintf(s.console.out, "re-sent %d range(s), %s, from the staging location", r->ranges_resent,
               Gb(r->bytes_resent).c_str());
  if (r->ranges_already_sent > 0) {
    std::fprintf(s.console.out, " (%d range(s) an earlier repair sent are not sent again)", r->ranges_already_sent);
  }
  std::fprintf(s.console.out, "\n");
  return 0;
}

int RunRecoveryPoints(Staged& s, const std::vector<vault::proto::RecoveryPoint>& points) {
  std::FILE* out = s.console.out;
  if (s.request.json) {
    proto::RecoveryPointList list;
    for (const auto& rp : points) *list.add_recoverypoints() = rp;
    std::fprintf(out, "%s\n", json::ToJsonCompact(list).c_str());
    return 0;
  }
  if (points.empty()) std::fprintf(out, "no recovery points yet for %s\n", s.job.jobname().c_str());
  for (const auto& rp : points) {
    std::fprintf(out, "%3d  %s  %-11s  %6llu files  %9s  new %9s  sent %9s\n", rp.number(), rp.createdat().c_str(),
                 rp.kind().c_str(), static_cast<unsigned long long>(rp.files()), Gb(rp.sourcebytes()).c_str(),
                 Gb(rp.newbytes()).c_str(), Gb(rp.bytesuploaded()).c_str());
  }
  return 0;
}

// Before the first recovery point: the import job's state, as JSON or as the waiting line (`tail` after it).
void PrintWaiting(Staged& s, const ie::JobProgress& progress, const std::string& note, const char* tail) {
  const std::string& state = progress.summary;
  if (s.request.json) {
    proto::AgentStatus out;
    out.set_state(progress.data_done ? "ImportCompleted" : "WaitingForImport");
    out.set_importjob(s.job.jobname());
    out.set_importstate(state);
    out.set_note(note);
    std::fprintf(s.console.out, "%s\n", json::ToJsonCompact(out).c_str());
    return;
  }
  std::fprintf(s.console.out, "%s\n(import job %s: %s)%s%s%s\n", kWaiting, s.job.jobname().c_str(),
               state.empty() ? "unknown" : state.c_str(), note.empty() ? "" : " ", note.c_str(), tail);
}

int RunStatus(Staged& s, const std::vector<vault::proto::RecoveryPoint>& points) {
  std::FILE* out = s.console.out;
  if (!points.empty()) {
    const auto& last = points.back();
    if (s.request.json) {
      proto::AgentStatus status;
      status.set_state("Protected");
      status.set_importjob(s.job.jobname());
      status.set_recoverypoints(static_cast<uint32_t>(points.size()));
      *status.mutable_latest() = last;
      std::fprintf(out, "%s\n", json::ToJsonCompact(status).c_str());
    } else {
      std::fprintf(out, "Protected: %zu recovery point(s); the latest is %d (%s, %s, %llu files, %s)\n", points.size(),
                   last.number(), last.kind().c_str(), last.createdat().c_str(),
                   static_cast<unsigned long long>(last.files()), Gb(last.sourcebytes()).c_str());
    }
    return 0;
  }
  std::string note;
  ie::JobProgress progress = ImportState(s.endpoints, s.job, s.staging(), &note);
  if (progress.data_done && !s.request.json) {
    std::fprintf(out,
                 "Import job %s: the drives are imported (%s); the next backup (`seedagent backup`) copies the "
                 "initial backup into the vault%s\n",
                 s.job.jobname().c_str(), progress.summary.c_str(),
                 progress.needs_repair ? ", re-sending over the network what the drives did not deliver" : "");
    return 0;
  }
  PrintWaiting(s, progress, note, "");
  return 0;
}

// The image blobs the import job put into the storage account, as many as the job record counts (in a staging
// location made before it did, the catalogue's last record, read as a stream).
absl::Status SeededImages(Staged& s, std::vector<blob::BlobUri>* images) {
  uint32_t count = s.job.images();
  if (count == 0) {  // a staging location made before the job record kept the count: the catalogue's end says
    absl::Status read = ForEachCatalogueRecord(CataloguePath(s.staging()), [&count](proto::Catalogue& r) {
      count = std::max(count, r.images());
      return absl::OkStatus();
    });
    if (!read.ok()) return read;
  }
  for (uint32_t i = 0; i < count; ++i) {
    images->push_back(s.endpoints.account.WithContainer(s.job.container())
                          .WithBlob(absl::StrFormat("%s/image-%04u.vhd", s.job.jobname(), i)));
  }
  return absl::OkStatus();
}

// The first backup after the import: repairs what the drives did not deliver, copies the seeded data into the
// vault as recovery point 1 and marks the job record Protected.
int RunSeed(Staged& s, absl::Time start) {
  const Console& c = s.console;
  auto repaired = RepairImport(RepairFor(s));
  if (!repaired.ok()) return Fail(c, repaired.status());
  if (repaired->ranges_resent > 0) {
    std::fprintf(c.err, "repaired the import: re-sent %d range(s), %s, from the staging location\n",
                 repaired->ranges_resent, Gb(repaired->bytes_resent).c_str());
  }
  std::vector<blob::BlobUri> images;
  if (absl::Status read = SeededImages(s, &images); !read.ok()) return Fail(c, read);
  auto seeded = s.vault.Seed(images, CataloguePath(s.staging()), s.job.stagedbytes());
  if (c.tty) std::fprintf(c.err, "\n");
  if (!seeded.ok()) return Fail(c, seeded.status());
  proto::ImportJobRecord updated = s.job;
  updated.set_state("Protected");
  // The vault holds the point either way; the job record only says so for `status` on this computer.
  absl::Status noted = file::WriteFileAtomic(s.staging() + "/offline-job.json", json::ToJson(updated, true), 0600);
  if (!noted.ok()) {
    std::fprintf(c.err,
                 "seedagent: note: recovery point 1 is in the vault, but the staging location's job "
                 "record could not be updated (%s)\n",
                 std::string(noted.message()).c_str());
  }
  if (s.request.json) {
    std::fprintf(c.out, "%s\n", json::ToJson(seeded->point).c_str());
    return 0;
  }
  std::fprintf(c.out,
               "recovery point 1 created from the offline import: %llu files, %s, copied into the vault in "
               "%.1f s (%llu block(s) copied, %llu already there). The server is protected.\n",
               static_cast<unsigned long long>(seeded->point.files()), Gb(seeded->point.sourcebytes()).c_str(),
               absl::ToDoubleSeconds(absl::Now() - start), static_cast<unsigned long long>(seeded->blocks_uploaded),
               static_cast<unsigned long long>(seeded->blocks_reused));
  return 0;
}

// Every later backup: incremental, from the sources recorded at initiate.
int RunIncremental(Staged& s, absl::Time start) {
  const Console& c = s.console;
  std::vector<std::string> roots(s.job.sources().begin(), s.job.sources().end());
  ChunkOptions co;
  const std::string& threads = s.request.opt["threads"];
  if (!threads.empty() && !absl::SimpleAtoi(threads, &co.threads)) return Usage(c, "--threads needs a number");
  auto printer = ProgressPrinter(c);
  co.progress = [printer](uint64_t done, uint64_t total) { printer("backup", done, total); };
  auto out = s.vault.Backup(roots, co, s.request.opt.count("full-scan") > 0);
  if (c.tty) std::fprintf(c.err, "\n");
  if (!out.ok()) return Fail(c, out.status());
  if (s.request.json) {
    std::fprintf(c.out, "%s\n", json::ToJson(out->point).c_str());
  } else {
    std::fprintf(c.out,
                 "recovery point %d: %llu files (%llu unchanged, not read; %llu read again, same bytes), %s; %llu "
                 "new chunk(s) (%s), sent "
                 "%s in %.1f s (%llu block(s) uploaded, %llu already there from an interrupted run)\n",
                 out->point.number(), static_cast<unsigned long long>(out->point.files()),
                 static_cast<unsigned long long>(out->files_unchanged),
                 static_cast<unsigned long long>(out->files_same_bytes), Gb(out->point.sourcebytes()).c_str(),
                 static_cast<unsigned long long>(out->point.newchunks()), Gb(out->point.newbytes()).c_str(),
                 Gb(out->point.bytesuploaded()).c_str(), absl::ToDoubleSeconds(absl::Now() - start),
                 static_cast<unsigned long long>(out->blocks_uploaded),
                 static_cast<unsigned long long>(out->blocks_reused));
  }
  return ReportProblems(c, out->point.problems());
}

// The scheduled backup: waits for the import, then seeds the vault, then goes incremental.
int RunBackup(Staged& s, const std::vector<vault::proto::RecoveryPoint>& points) {
  absl::Time start = absl::Now();
  if (!points.empty()) return RunIncremental(s, start);
  std::string note;
  ie::JobProgress progress = ImportState(s.endpoints, s.job, s.staging(), &note);
  if (!progress.data_done) {
    PrintWaiting(s, progress, note, "; no backup taken");
    return 0;
  }
  return RunSeed(s, start);
}

// The usage errors of the staged commands; the recovery point to restore in `*point`.
int CheckStagedUsage(AgentRequest& r, const Console& c, int* point) {
  if (r.opt["staging"].empty()) {
    return Usage(c, r.command + " needs --staging DIR (the offline backup's staging location)");
  }
  if (r.command != "restore") return 0;
  if (!absl::SimpleAtoi(r.opt["recovery-point"], point) || *point < 1) {
    return Usage(c, "restore needs --recovery-point N (see recovery-points)");
  }
  if (r.opt["target"].empty()) return Usage(c, "restore needs --target DIR (an empty or new folder)");
  return 0;
}

}  // namespace

int RunStagedCommand(AgentRequest& request, const AgentEnv& env) {
  const Console& c = env.console;
  int point = 0;
  if (int usage = CheckStagedUsage(request, c, &point); usage != 0) return usage;
  auto job = ReadStagedJob(request.opt["staging"]);
  if (!job.ok()) return Fail(c, job.status());
  if (job->itemid().empty()) {
    return Fail(c, absl::FailedPreconditionError(
                       absl::StrCat(request.opt["staging"],
                                    " was staged by an older seedagent and has no protected-item id; stage "
                                    "the backup again (`seedagent initiate` into a new staging location)")));
  }
  absl::StatusOr<Endpoints> e = Connect(request.opt, env.transport);
  if (!e.ok()) return Fail(c, e.status());
  vault::Vault vault(VaultFor(*e, *job, c));
  Staged s{request, c, *job, *e, vault};
  if (request.command == "restore") return RunRestore(s, point);
  if (request.command == "repair") return RunRepair(s);
  auto points = vault.List();
  if (!points.ok()) return Fail(c, points.status());
  if (request.command == "recovery-points") return RunRecoveryPoints(s, *points);
  if (request.command == "status") return RunStatus(s, *points);
  return RunBackup(s, *points);
}

int RunRestoreStaging(AgentRequest& request, const AgentEnv& env) {
  const Console& c = env.console;
  Flags& opt = request.opt;
  if (opt["staging"].empty() || opt["output"].empty()) return Usage(c, "restore-staging needs --staging and --output");
  RestoreReport report;
  absl::Status s = RestoreFromStaging(opt["staging"], opt["output"], &report);
  if (!s.ok()) return Fail(c, s);
  ReportRestore(c, report);
  std::fprintf(c.out, "restored into %s\n", opt["output"].c_str());
  return 0;
}

namespace {

// Initiate's usage errors, in the order the command line reports them.
int CheckInitiateUsage(AgentRequest& r, const Console& c) {
  Flags& opt = r.opt;
  for (const char* k : {"staging", "publish-settings", "job-name", "subscription-id", "storage-account", "container"}) {
    if (opt[k].empty()) return Usage(c, absl::StrCat("initiate needs --", k));
  }
  if (r.sources.empty()) return Usage(c, "initiate needs at least one --source");
  return 0;
}

// The offline application certgen registered for the storage account (AddRegistryEntries wrote
// OfflineApplicationParams_<account>.xml into the scratch folder, as on Windows): one made for another subscription
// or account stops initiate; none is a note (the tools here reach Azure with --token).
absl::Status CheckOfflineApplication(Flags& opt, const Console& c) {
  std::string scratch = opt["scratch-dir"];
  if (scratch.empty()) scratch = std::getenv("VMBACKUP_SCRATCH_DIR") ? std::getenv("VMBACKUP_SCRATCH_DIR") : "";
  if (scratch.empty()) scratch = "/var/lib/vmbackup/Scratch/MicrosoftBackupProvider";
  absl::StatusOr<OfflineApplicationParams> app =
      ReadRegisteredApplication(scratch, opt["subscription-id"], opt["storage-account"]);
  if (app.status().code() == absl::StatusCode::kNotFound) {
    std::fprintf(c.err, "seedagent: note: %s\n", std::string(app.status().message()).c_str());
    return absl::OkStatus();
  }
  if (!app.ok()) return app.status();
  std::fprintf(c.err, "offline application %s (application id %s), certificate %s, for storage account %s\n",
               app->application_name.c_str(), app->application_id.c_str(), app->thumbprint.c_str(),
               app->storage_account.c_str());
  return absl::OkStatus();
}

}  // namespace

int RunInitiate(AgentRequest& request, const AgentEnv& env) {
  const Console& c = env.console;
  Flags& opt = request.opt;
  if (int usage = CheckInitiateUsage(request, c); usage != 0) return usage;
  if (absl::Status app = CheckOfflineApplication(opt, c); !app.ok()) return Fail(c, app);
  // The publish settings must hold the subscription (the tools will use its management certificate).
  auto sub = LoadSubscription(opt["publish-settings"], opt["subscription-id"]);
  if (!sub.ok()) return Fail(c, sub.status());
  for (absl::Status named : {ie::CheckJobName(opt["job-name"]), ie::CheckContainerName(opt["container"]),
                             ie::CheckStorageAccountName(opt["storage-account"])}) {
    if (!named.ok()) return Usage(c, std::string(named.message()));
  }
  absl::Status free =
      CheckJobNameFree(opt, env.transport, opt["subscription-id"], opt["job-name"], opt["storage-account"]);
  if (!free.ok()) return Fail(c, free);
  InitiateOptions o;
  o.sources = request.sources;
  o.staging = opt["staging"];
  o.job.set_jobname(opt["job-name"]);
  o.job.set_subscriptionid(opt["subscription-id"]);
  o.job.set_storageaccount(opt["storage-account"]);
  o.job.set_container(opt["container"]);
  o.job.set_publishsettingspath(opt["publish-settings"]);
  if (!opt["threads"].empty() && !absl::SimpleAtoi(opt["threads"], &o.threads))
    return Usage(c, "--threads needs a number");
  absl::Time start = absl::Now();
  o.progress = InitiateProgressPrinter(c);
  auto job = InitiateOfflineBackup(o);
  if (c.tty) std::fprintf(c.err, "\n");
  if (!job.ok()) return Fail(c, job.status());
  if (request.json) {
    std::fprintf(c.out, "%s\n", json::ToJson(*job).c_str());
  } else {
    std::fprintf(c.out,
                 "staged %.2f GB of source data as %.2f GB (%llu chunk references, %llu chunks stored) in %.1f s\n",
                 job->sourcebytes() / 1e9, job->stagedbytes() / 1e9, static_cast<unsigned long long>(job->chunks()),
                 static_cast<unsigned long long>(job->uniquechunks()), absl::ToDoubleSeconds(absl::Now() - start));
    std::fprintf(c.out, "next: prepare drives with `diskprep s:%s`\n", o.staging.c_str());
  }
  // So that `diskprep u:` on this computer finds the job it waits for, whichever computer prepares the drives.
  if (!env.agent_dir.empty()) {
    if (absl::Status recorded = RecordWaitingImport(env.agent_dir, o.staging); !recorded.ok()) {
      std::fprintf(c.err, "seedagent: note: cannot record the import job in %s (%s); give `diskprep u:` s:%s\n",
                   env.agent_dir.c_str(), std::string(recorded.message()).c_str(), o.staging.c_str());
    }
  }
  return ReportProblems(c, job->problems());
}

}  // namespace vmb::offline
