// seedagent: the backup agent's side of offline seeding (seed 004).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/blob/blob_client.h"
#include "common/blob/dev_account.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "offline_seed/repair/repair.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/job_progress.h"
#include "offline_seed/import_job/names.h"
#include "common/status/http_status.h"
#include "offline_seed/vault/vault.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/cli/account_key.h"
#include "common/cli/sizes.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/agent_output.pb.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/agent/tree.h"
#include "offline_seed/publish/publish_settings.h"

namespace {

constexpr char kUsage[] = R"(usage:
  seedagent initiate --source DIR [--source DIR]... --staging DIR --publish-settings FILE --job-name NAME
                     --subscription-id ID --storage-account NAME --container NAME [--threads N] [--json]
      write the compressed initial backup of the source folders to the staging location (the six fields of
      "Initiate offline backup": staging location, job name, publish settings, subscription, storage account,
      container). The job name must be free in the subscription: it is checked with the Import/Export API
      (--control-plane) before anything is written. The sources are recorded as absolute paths, and the
      protected item gets its own id (the vault keys it by that id, never by the job name)
  seedagent status --staging DIR [--json]
      where the offline backup stands: waiting for the import job, imported, or protected (recovery points)
  seedagent backup --staging DIR [--threads N] [--full-scan] [--json]
      the scheduled backup. Until the import job completes it only reports that it is waiting. The first run after
      the import completes repairs what the import reported damaged or missing (re-sending only those ranges from
      the staging location), copies the seeded data into the vault and creates recovery point 1. Every later run is
      incremental: it re-chunks the files that changed (size, mtime, ctime or inode; --full-scan reads every file)
      and uploads only the chunks the vault lacks (resumable).
  seedagent recovery-points --staging DIR [--json]
  seedagent restore --staging DIR --recovery-point N --target DIR
      restore a recovery point from the vault into an empty folder (root i as DIR/i), checking every chunk
  seedagent repair --staging DIR
      re-send the ranges the import reported corrupted, or all ranges of drives it could not read or never received
  seedagent restore-staging --staging DIR --output DIR
      rebuild the source folders from the staging location, checking every chunk (a rehearsal of the restore)

endpoints (flags, else environment, else the local defaults):
  --control-plane URL   the Import/Export API ($VMBACKUP_CONTROL_PLANE)
  --token T             its bearer token ($VMBACKUP_TOKEN)
  --blob-endpoint URL   the import job's storage account ($VMBACKUP_BLOB_ENDPOINT, default
                        http://127.0.0.1:10000/devstoreaccount1)
  --account-key-file F  that account's key ($VMBACKUP_ACCOUNT_KEY_FILE; the storage emulator's published key is used
                        for devstoreaccount1)
  --vault-endpoint URL  the vault's account ($VMBACKUP_VAULT_ENDPOINT, default: the blob endpoint)
  --vault-key-file F    its key ($VMBACKUP_VAULT_KEY_FILE, default: the account key)
  --vault NAME          the vault's container (default recoveryvault)

what a backup keeps: files (sparse files by their data; holes come back as holes), folders, symlinks, hard links
(restored as links), FIFOs and device nodes; owners (ids and names), modes with set-uid/set-gid/sticky, every
extended attribute (POSIX ACLs included) and modification times to the nanosecond. Sockets are not backed up
(as tar). A file that changes while it is read is read again (up to 4 times); if it never settles it is kept as
last read and named. An entry that vanishes between the walk and its read is skipped with a note. An entry that
cannot be read does not stop the backup: every such entry is listed at the end (and in --json, "problems") and
the exit status is 3. Restore applies owners only when run as root (else it says so) and never follows links.

exit status: 0 done (or nothing to do yet), 1 failed (the message says why and what to do), 2 bad usage,
             3 done but incomplete: the entries listed as unreadable are not in the backup
)";

// Lists what a backup could not keep as it was (stderr) and gives the exit status: 3 when an entry could not be
// read (the backup is incomplete), else 0.
int ReportProblems(const google::protobuf::RepeatedPtrField<vmb::offline::proto::Problem>& problems) {
  std::map<std::string, int> counts;
  for (const auto& p : problems) ++counts[p.kind()];
  if (problems.empty()) return 0;
  std::fprintf(stderr, "not kept as it was:");
  for (const auto& [kind, n] : counts) std::fprintf(stderr, " %d %s", n, kind.c_str());
  std::fprintf(stderr, "\n");
  int shown = 0;
  for (const auto& p : problems) {
    if (++shown > 1000) {
      std::fprintf(stderr, "  ... and %d more (all of them are in --json)\n", problems.size() - 1000);
      break;
    }
    std::fprintf(stderr, "  %-10s %s: %s\n", p.kind().c_str(), p.path().c_str(), p.detail().c_str());
  }
  std::vector<vmb::offline::proto::Problem> all(problems.begin(), problems.end());
  if (!vmb::offline::Incomplete(all)) return 0;
  std::fprintf(stderr, "the backup is incomplete: the unreadable entries above are not in it (fix their permissions "
                       "or run as a user that can read them; the next backup picks them up)\n");
  return 3;
}

// What a restore could not put back (stderr).
void ReportRestore(const vmb::offline::RestoreReport& r) {
  if (!r.owners_applied) {
    std::fprintf(stderr, "owners were not restored (only root can set them): every entry belongs to the restoring user\n");
  }
  for (const std::string& n : r.not_restored) std::fprintf(stderr, "not restored: %s\n", n.c_str());
}

int Usage(const std::string& p) {
  std::fprintf(stderr, "seedagent: %s\n(run `seedagent --help`)\n", p.c_str());
  return 2;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "seedagent: %s\n", std::string(s.message()).c_str());
  return 1;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// A progress line per phase on stderr: bytes, MB/s, ETA (a carriage return on a terminal, lines otherwise).
std::function<void(const std::string&, uint64_t, uint64_t)> ProgressPrinter() {
  struct State {
    std::string phase;
    absl::Time start, last;
  };
  auto st = std::make_shared<State>();
  bool tty = ::isatty(2);
  return [st, tty](const std::string& phase, uint64_t done, uint64_t total) {
    absl::Time now = absl::Now();
    if (phase != st->phase) {
      if (!st->phase.empty() && tty) std::fprintf(stderr, "\n");
      st->phase = phase;
      st->start = now;
      st->last = absl::InfinitePast();
    }
    if (now - st->last < absl::Milliseconds(500) && done != total) return;
    st->last = now;
    double secs = absl::ToDoubleSeconds(now - st->start);
    double rate = secs > 0 ? done / secs / 1e6 : 0;
    double eta = rate > 0 && total > done ? (total - done) / 1e6 / rate : 0;
    std::fprintf(stderr, "%s%-12s %6.2f%%  %.2f / %.2f GB  %.0f MB/s  ETA %.0f s%s", tty ? "\r" : "", phase.c_str(),
                 total ? 100.0 * done / total : 100.0, done / 1e9, total / 1e9, rate, eta, tty ? "" : "\n");
  };
}

// Where the job's storage account, the vault and the control plane are, from flags, environment and defaults.
struct Endpoints {
  std::unique_ptr<vmb::http::HttpTransport> transport;
  std::unique_ptr<vmb::blob::BlobClient> storage, vault_client;
  vmb::blob::BlobUri account, vault_container;
  std::string control_plane, token;
};

absl::StatusOr<std::string> KeyFor(const vmb::blob::BlobUri& account, const std::string& key_file) {
  return vmb::cli::ReadAccountKey(account.account(), key_file);
}

// A flag's value, else the environment variable's, else `fallback`.
std::string Pick(std::map<std::string, std::string>& opt, const char* flag, const char* env, const std::string& fallback) {
  if (!opt[flag].empty()) return opt[flag];
  std::string e = Env(env);
  return e.empty() ? fallback : e;
}

absl::StatusOr<Endpoints> Connect(std::map<std::string, std::string>& opt) {
  auto pick = [&](const char* flag, const char* env, const std::string& fallback) { return Pick(opt, flag, env, fallback); };
  Endpoints e;
  e.transport = vmb::http::NewCurlTransport();
  e.control_plane = pick("control-plane", "VMBACKUP_CONTROL_PLANE", "");
  e.token = pick("token", "VMBACKUP_TOKEN", "");
  std::string blob_endpoint = pick("blob-endpoint", "VMBACKUP_BLOB_ENDPOINT", "http://127.0.0.1:10000/devstoreaccount1");
  ASSIGN_OR_RETURN(e.account, vmb::blob::BlobUri::ForAccount(blob_endpoint));
  std::string key_file = pick("account-key-file", "VMBACKUP_ACCOUNT_KEY_FILE", "");
  ASSIGN_OR_RETURN(std::string key, KeyFor(e.account, key_file));
  ASSIGN_OR_RETURN(auto cred, vmb::blob::SharedKeyCredential::Create(e.account.account(), key));
  e.storage = std::make_unique<vmb::blob::BlobClient>(e.transport.get(), cred);
  ASSIGN_OR_RETURN(vmb::blob::BlobUri vault_account,
                   vmb::blob::BlobUri::ForAccount(pick("vault-endpoint", "VMBACKUP_VAULT_ENDPOINT", blob_endpoint)));
  ASSIGN_OR_RETURN(std::string vault_key, KeyFor(vault_account, pick("vault-key-file", "VMBACKUP_VAULT_KEY_FILE", key_file)));
  ASSIGN_OR_RETURN(auto vault_cred, vmb::blob::SharedKeyCredential::Create(vault_account.account(), vault_key));
  e.vault_client = std::make_unique<vmb::blob::BlobClient>(e.transport.get(), vault_cred);
  e.vault_container = vault_account.WithContainer(opt["vault"].empty() ? "recoveryvault" : opt["vault"]);
  return e;
}

// The protected item is keyed by the id made at initiate, never by the job name (two servers may use one name).
vmb::vault::VaultOptions VaultFor(Endpoints& e, const vmb::offline::proto::ImportJobRecord& job) {
  vmb::vault::VaultOptions vo;
  vo.client = e.vault_client.get();
  vo.container = e.vault_container;
  vo.item = job.itemid();
  vo.progress = ProgressPrinter();
  return vo;
}

std::string Gb(uint64_t bytes) { return vmb::cli::HumanBytes(bytes); }

constexpr char kWaiting[] =
    "Waiting for Azure Import Job to complete. Please check on Azure Management portal for more information on job "
    "status";

// Where the import job stands, read from its drives (ProgressOf): the data is in the storage account once every
// drive finished, while the job may still be Packaging. `summary` "" with a note when it cannot be asked.
vmb::ie::JobProgress ImportState(Endpoints& e, const vmb::offline::proto::ImportJobRecord& job,
                                 const std::string& staging, std::string* note) {
  if (e.control_plane.empty()) {
    *note = "(no control plane given: --control-plane / $VMBACKUP_CONTROL_PLANE)";
    return {};
  }
  vmb::ie::ArmImportJobClient client(e.transport.get(), e.control_plane, e.token);
  absl::StatusOr<vmb::ie::proto::Job> j = client.GetJob({job.subscriptionid(), "offlinebackup", job.jobname()});
  if (!j.ok()) {
    // A 404 before `diskprep s:` ran means the job is not created yet; after it, that Azure deleted it.
    const bool prepared = ::access((staging + "/diskprep").c_str(), F_OK) == 0;
    if (vmb::HttpStatusOf(j.status()).value_or(0) != 404) {
      *note = absl::StrCat("(cannot read import job ", job.jobname(), ": ", j.status().message(), ")");
    } else if (prepared) {
      *note = absl::StrCat("(", vmb::ie::JobGoneExplanation(job.jobname()), ")");
    } else {
      *note = "(not created yet: `diskprep s:` prepares the drives and creates it)";
    }
    return {};
  }
  auto tag = j->tags().find(vmb::offline::kItemTag);
  if (tag == j->tags().end() || tag->second != job.itemid()) {
    // Another server's job of the same name: its drives are not this staging location's data.
    *note = absl::StrCat("(the import job ", job.jobname(), " in Azure was not prepared from this staging location; it "
                         "belongs to another server. This staging location's drives were never imported: stage the "
                         "backup again with a new job name)");
    return {};
  }
  return vmb::ie::ProgressOf(*j);
}

// Before anything is written: the job name must be free in the subscription (Azure would hand this server another
// server's job, and its drives, otherwise).
absl::Status CheckJobNameFree(std::map<std::string, std::string>& opt, const std::string& subscription,
                              const std::string& name, const std::string& account) {
  const std::string plane = Pick(opt, "control-plane", "VMBACKUP_CONTROL_PLANE", "");
  if (plane.empty()) {
    return absl::InvalidArgumentError(
        "initiate checks that the import job name is free in the subscription: give the management endpoint with "
        "--control-plane URL (https://management.azure.com for Azure) and --token, or $VMBACKUP_CONTROL_PLANE and "
        "$VMBACKUP_TOKEN");
  }
  std::unique_ptr<vmb::http::HttpTransport> transport = vmb::http::NewCurlTransport();
  vmb::ie::ArmImportJobClient client(transport.get(), plane, Pick(opt, "token", "VMBACKUP_TOKEN", ""));
  absl::StatusOr<vmb::ie::proto::Job> j = client.GetJob({subscription, "offlinebackup", name});
  if (j.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "the import job name ", name, " is already used in subscription ", subscription, " (that job is ",
        j->properties().state().empty() ? "known" : j->properties().state(),
        "); choose another job name. Nothing was written"));
  }
  if (vmb::HttpStatusOf(j.status()).value_or(0) != 404) {
    return absl::UnavailableError(absl::StrCat("cannot check the import job name with the Import/Export API: ",
                                               j.status().message(), ". Nothing was written"));
  }
  // The storage account the drives are imported into must exist (else diskprep would stop after filling them).
  absl::StatusOr<vmb::ie::proto::StorageAccount> a = client.GetStorageAccount(subscription, "offlinebackup", account);
  if (vmb::HttpStatusOf(a.status()).value_or(0) == 404) {
    return absl::NotFoundError(absl::StrCat("the storage account ", account, " does not exist in resource group "
                                            "offlinebackup of subscription ", subscription, "; create it in the "
                                            "portal (or check the name). Nothing was written"));
  }
  if (!a.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot check the storage account with the management API: ",
                                               a.status().message(), ". Nothing was written"));
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  std::string command;
  std::map<std::string, std::string> opt;
  std::vector<std::string> sources;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--full-scan") {
      opt["full-scan"] = "1";
    } else if (a == "--source" && i + 1 < argc) {
      sources.push_back(argv[++i]);
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    } else if (command.empty()) {
      command = a;
    } else {
      return Usage("unexpected argument " + a);
    }
  }
  if (command == "status" || command == "backup" || command == "recovery-points" || command == "restore" ||
      command == "repair") {
    if (opt["staging"].empty()) return Usage(command + " needs --staging DIR (the offline backup's staging location)");
    int restore_point = 0;  // usage errors first, before anything is read or contacted
    if (command == "restore") {
      if (!absl::SimpleAtoi(opt["recovery-point"], &restore_point) || restore_point < 1) {
        return Usage("restore needs --recovery-point N (see recovery-points)");
      }
      if (opt["target"].empty()) return Usage("restore needs --target DIR (an empty or new folder)");
    }
    auto job = vmb::offline::ReadStagedJob(opt["staging"]);
    if (!job.ok()) return Fail(job.status());
    if (job->itemid().empty()) {
      return Fail(absl::FailedPreconditionError(absl::StrCat(
          opt["staging"], " was staged by an older seedagent and has no protected-item id; stage the backup again "
          "(`seedagent initiate` into a new staging location)")));
    }
    absl::StatusOr<Endpoints> e = Connect(opt);
    if (!e.ok()) return Fail(e.status());
    vmb::vault::Vault vault(VaultFor(*e, *job));
    const vmb::offline::RepairOptions repair{opt["staging"], e->control_plane, e->token, "offlinebackup",
                                             e->storage.get(), e->account, e->transport.get()};
    if (command == "restore") {
      const int n = restore_point;
      absl::Time start = absl::Now();
      vmb::offline::RestoreReport report;
      absl::Status s = vault.Restore(n, opt["target"], 4, &report);
      if (::isatty(2)) std::fprintf(stderr, "\n");
      if (!s.ok()) return Fail(s);
      ReportRestore(report);
      std::printf("restored recovery point %d into %s in %.1f s\n", n, opt["target"].c_str(),
                  absl::ToDoubleSeconds(absl::Now() - start));
      return 0;
    }
    if (command == "repair") {
      auto r = vmb::offline::RepairImport(repair);
      if (!r.ok()) return Fail(r.status());
      for (const std::string& d : r->drives) std::printf("drive %s\n", d.c_str());
      std::printf("re-sent %d range(s), %s, from the staging location\n", r->ranges_resent, Gb(r->bytes_resent).c_str());
      return 0;
    }
    auto points = vault.List();
    if (!points.ok()) return Fail(points.status());
    if (command == "recovery-points") {
      if (json) {
        vmb::offline::proto::RecoveryPointList list;
        for (const auto& rp : *points) *list.add_recoverypoints() = rp;
        std::printf("%s\n", vmb::json::ToJsonCompact(list).c_str());
        return 0;
      }
      if (points->empty()) std::printf("no recovery points yet for %s\n", job->jobname().c_str());
      for (const auto& rp : *points) {
        std::printf("%3d  %s  %-11s  %6llu files  %9s  new %9s  sent %9s\n", rp.number(), rp.createdat().c_str(),
                    rp.kind().c_str(), static_cast<unsigned long long>(rp.files()), Gb(rp.sourcebytes()).c_str(),
                    Gb(rp.newbytes()).c_str(), Gb(rp.bytesuploaded()).c_str());
      }
      return 0;
    }
    if (command == "status") {
      std::string note, state;
      if (!points->empty()) {
        const auto& last = points->back();
        if (json) {
          vmb::offline::proto::AgentStatus out;
          out.set_state("Protected");
          out.set_importjob(job->jobname());
          out.set_recoverypoints(static_cast<uint32_t>(points->size()));
          *out.mutable_latest() = last;
          std::printf("%s\n", vmb::json::ToJsonCompact(out).c_str());
        } else {
          std::printf("Protected: %zu recovery point(s); the latest is %d (%s, %s, %llu files, %s)\n", points->size(),
                      last.number(), last.kind().c_str(), last.createdat().c_str(),
                      static_cast<unsigned long long>(last.files()), Gb(last.sourcebytes()).c_str());
        }
        return 0;
      }
      vmb::ie::JobProgress progress = ImportState(*e, *job, opt["staging"], &note);
      state = progress.summary;
      if (json) {
        vmb::offline::proto::AgentStatus out;
        out.set_state(progress.data_done ? "ImportCompleted" : "WaitingForImport");
        out.set_importjob(job->jobname());
        out.set_importstate(state);
        out.set_note(note);
        std::printf("%s\n", vmb::json::ToJsonCompact(out).c_str());
      } else if (progress.data_done) {
        std::printf("Import job %s: the drives are imported (%s); the next backup (`seedagent backup`) copies the "
                    "initial backup into the vault%s\n", job->jobname().c_str(), state.c_str(),
                    progress.needs_repair ? ", re-sending over the network what the drives did not deliver" : "");
      } else {
        std::printf("%s\n(import job %s: %s)%s%s\n", kWaiting, job->jobname().c_str(), state.empty() ? "unknown" : state.c_str(),
                    note.empty() ? "" : " ", note.c_str());
      }
      return 0;
    }
    // backup
    absl::Time start = absl::Now();
    if (points->empty()) {
      std::string note;
      vmb::ie::JobProgress progress = ImportState(*e, *job, opt["staging"], &note);
      const std::string& state = progress.summary;
      if (!progress.data_done) {
        if (json) {
          vmb::offline::proto::AgentStatus out;
          out.set_state("WaitingForImport");
          out.set_importjob(job->jobname());
          out.set_importstate(state);
          out.set_note(note);
          std::printf("%s\n", vmb::json::ToJsonCompact(out).c_str());
        } else {
          std::printf("%s\n(import job %s: %s)%s%s; no backup taken\n", kWaiting, job->jobname().c_str(),
                      state.empty() ? "unknown" : state.c_str(), note.empty() ? "" : " ", note.c_str());
        }
        return 0;
      }
      auto repaired = vmb::offline::RepairImport(repair);
      if (!repaired.ok()) return Fail(repaired.status());
      if (repaired->ranges_resent > 0) {
        std::fprintf(stderr, "repaired the import: re-sent %d range(s), %s, from the staging location\n",
                     repaired->ranges_resent, Gb(repaired->bytes_resent).c_str());
      }
      auto text = vmb::file::ReadFile(opt["staging"] + "/catalogue.json");
      if (!text.ok()) return Fail(text.status());
      vmb::offline::proto::Catalogue cat;
      absl::Status ps = vmb::json::Parse(*text, &cat, "catalogue.json");
      if (!ps.ok()) return Fail(ps);
      std::vector<vmb::blob::BlobUri> images;
      for (uint32_t i = 0; i < cat.images(); ++i) {
        images.push_back(e->account.WithContainer(job->container())
                             .WithBlob(absl::StrFormat("%s/image-%04u.vhd", job->jobname(), i)));
      }
      auto seeded = vault.Seed(images, cat);
      if (::isatty(2)) std::fprintf(stderr, "\n");
      if (!seeded.ok()) return Fail(seeded.status());
      vmb::offline::proto::ImportJobRecord updated = *job;
      updated.set_state("Protected");
      // The vault holds the point either way; the job record only says so for `status` on this computer.
      absl::Status noted = vmb::file::WriteFileAtomic(opt["staging"] + "/offline-job.json",
                                                      vmb::json::ToJson(updated, true), 0600);
      if (!noted.ok()) {
        std::fprintf(stderr, "seedagent: note: recovery point 1 is in the vault, but the staging location's job "
                             "record could not be updated (%s)\n", std::string(noted.message()).c_str());
      }
      if (json) {
        std::printf("%s\n", vmb::json::ToJson(seeded->point).c_str());
      } else {
        std::printf("recovery point 1 created from the offline import: %llu files, %s, copied into the vault in %.1f s "
                    "(%llu block(s) copied, %llu already there). The server is protected.\n",
                    static_cast<unsigned long long>(seeded->point.files()), Gb(seeded->point.sourcebytes()).c_str(),
                    absl::ToDoubleSeconds(absl::Now() - start), static_cast<unsigned long long>(seeded->blocks_uploaded),
                    static_cast<unsigned long long>(seeded->blocks_reused));
      }
      return 0;
    }
    std::vector<std::string> roots(job->sources().begin(), job->sources().end());
    auto tree = vmb::offline::WalkSources(roots);
    if (!tree.ok()) return Fail(tree.status());
    vmb::offline::ChunkOptions co;
    if (!opt["threads"].empty() && !absl::SimpleAtoi(opt["threads"], &co.threads)) return Usage("--threads needs a number");
    auto printer = ProgressPrinter();
    co.progress = [printer](uint64_t done, uint64_t total) { printer("backup", done, total); };
    auto out = vault.Backup(*tree, co, opt.count("full-scan") > 0);
    if (::isatty(2)) std::fprintf(stderr, "\n");
    if (!out.ok()) return Fail(out.status());
    if (json) {
      std::printf("%s\n", vmb::json::ToJson(out->point).c_str());
    } else {
      std::printf("recovery point %d: %llu files (%llu unchanged, not read), %s; %llu new chunk(s) (%s), sent %s in "
                  "%.1f s (%llu block(s) uploaded, %llu already there from an interrupted run)\n",
                  out->point.number(), static_cast<unsigned long long>(out->point.files()),
                  static_cast<unsigned long long>(out->files_unchanged),
                  Gb(out->point.sourcebytes()).c_str(), static_cast<unsigned long long>(out->point.newchunks()),
                  Gb(out->point.newbytes()).c_str(), Gb(out->point.bytesuploaded()).c_str(),
                  absl::ToDoubleSeconds(absl::Now() - start), static_cast<unsigned long long>(out->blocks_uploaded),
                  static_cast<unsigned long long>(out->blocks_reused));
    }
    return ReportProblems(out->point.problems());
  }
  if (command == "restore-staging") {
    if (opt["staging"].empty() || opt["output"].empty()) return Usage("restore-staging needs --staging and --output");
    vmb::offline::RestoreReport report;
    absl::Status s = vmb::offline::RestoreFromStaging(opt["staging"], opt["output"], &report);
    if (!s.ok()) return Fail(s);
    ReportRestore(report);
    std::printf("restored into %s\n", opt["output"].c_str());
    return 0;
  }
  if (command != "initiate") return Usage(command.empty() ? "no command given" : "unknown command " + command);
  for (const char* k : {"staging", "publish-settings", "job-name", "subscription-id", "storage-account", "container"}) {
    if (opt[k].empty()) return Usage(absl::StrCat("initiate needs --", k));
  }
  if (sources.empty()) return Usage("initiate needs at least one --source");
  // The publish settings must hold the subscription (the tools will use its management certificate).
  auto sub = vmb::offline::LoadSubscription(opt["publish-settings"], opt["subscription-id"]);
  if (!sub.ok()) return Fail(sub.status());
  for (absl::Status named : {vmb::ie::CheckJobName(opt["job-name"]), vmb::ie::CheckContainerName(opt["container"]),
                             vmb::ie::CheckStorageAccountName(opt["storage-account"])}) {
    if (!named.ok()) return Usage(std::string(named.message()));
  }
  absl::Status free = CheckJobNameFree(opt, opt["subscription-id"], opt["job-name"], opt["storage-account"]);
  if (!free.ok()) return Fail(free);
  vmb::offline::InitiateOptions o;
  o.sources = sources;
  o.staging = opt["staging"];
  o.job.set_jobname(opt["job-name"]);
  o.job.set_subscriptionid(opt["subscription-id"]);
  o.job.set_storageaccount(opt["storage-account"]);
  o.job.set_container(opt["container"]);
  o.job.set_publishsettingspath(opt["publish-settings"]);
  if (!opt["threads"].empty() && !absl::SimpleAtoi(opt["threads"], &o.threads)) return Usage("--threads needs a number");
  absl::Time start = absl::Now(), last = start;
  bool tty = ::isatty(2);
  o.progress = [&](uint64_t done, uint64_t total) {
    absl::Time now = absl::Now();
    if (now - last < absl::Milliseconds(500) && done != total) return;
    last = now;
    double secs = absl::ToDoubleSeconds(now - start);
    double rate = secs > 0 ? done / secs / 1e6 : 0;
    double eta = rate > 0 ? (total - done) / 1e6 / rate : 0;
    std::fprintf(stderr, "%s%6.2f%%  %.1f / %.1f GB  %.0f MB/s  ETA %.0f s%s", tty ? "\r" : "",
                 total ? 100.0 * done / total : 100.0, done / 1e9, total / 1e9, rate, eta, tty ? "" : "\n");
  };
  auto job = vmb::offline::InitiateOfflineBackup(o);
  if (tty) std::fprintf(stderr, "\n");
  if (!job.ok()) return Fail(job.status());
  if (json) {
    std::printf("%s\n", vmb::json::ToJson(*job).c_str());
  } else {
    std::printf("staged %.2f GB of source data as %.2f GB (%llu chunks, %llu unique) in %.1f s\n",
                job->sourcebytes() / 1e9, job->stagedbytes() / 1e9, static_cast<unsigned long long>(job->chunks()),
                static_cast<unsigned long long>(job->uniquechunks()), absl::ToDoubleSeconds(absl::Now() - start));
    std::printf("next: prepare drives with `diskprep s:%s`\n", o.staging.c_str());
  }
  return ReportProblems(job->problems());
}
