// backupsvc: plays the Azure Backup service for the snapshot extension on one machine.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/cli/account_key.h"
#include "common/http/curl_transport.h"
#include "simulators/backup_service/backup_service.h"
#include "simulators/backup_service/service.h"

namespace {

constexpr char kUsage[] = R"(usage: backupsvc COMMAND [options]

Protected VMs (state kept in --state-dir, default $VMBACKUP_STATE_DIR or ./backupsvc-state):
  enable-for-vm --vm NAME --policy DefaultPolicy --blob-endpoint URL [--disks N] [--disk-size SIZE_MB] [--locale L]
      protect a simulated VM: its certificate and its disks as page blobs with data
  backup --vm NAME --vmsnapshot PATH [--freeze-provider none|fsfreeze|scripts|vss-sim] [--vss-socket PATH]
      run a backup job now: install the extension on the first backup, write encrypted settings with fresh SAS
      URIs, run `vmsnapshot enable` as a subprocess (as the guest agent does), read the status blob, record the
      recovery point
  run-due --vm NAME --vmsnapshot PATH [--now 2026-11-22T23:00:00Z]
      run the backup the policy says is due (DefaultPolicy: daily at 22:30 UTC), if any; for cron / timers
  extension list --vm NAME [-o table|json]
      the VM's extensions, like `az vm extension list -o table`
  list --vm NAME                recovery points
  restore --vm NAME --recovery-point ID --output DIR
      write every disk of the recovery point as a fixed VHD file

One job by hand (no state):
  prepare --vm-dir DIR --blob-endpoint URL [--disks N] [--locale L]
  collect --vm-dir DIR --blob-endpoint URL

The Azure CLI's spelling of the seeds is accepted as it is written there:
  backup protection enable-for-vm --resource-group RG --vault-name VAULT --vm NAME --policy-name DefaultPolicy
  vm extension list --resource-group RG --vm-name NAME -o table
(--policy-name is --policy, --vm-name is --vm; the blob endpoint comes from $VMBACKUP_BLOB_ENDPOINT when
--blob-endpoint is not given; --resource-group and --vault-name are kept with the VM and must match later.)

Common: --account-key-file FILE (mode 0600; or $VMBACKUP_ACCOUNT_KEY_FILE; default: Azurite's development key), --help.
)";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "backupsvc: %s\n(run `backupsvc --help` for usage)\n", problem.c_str());
  return 2;
}

// The Azure CLI's forms of the seeds' commands, mapped onto ours: the command words az uses and its option names.
// Returns a problem to report, or "".
std::string NormalizeAzForms(std::vector<std::string>* words, std::map<std::string, std::string>* opt) {
  auto starts = [&](std::initializer_list<const char*> prefix) {
    if (words->size() < prefix.size()) return false;
    size_t i = 0;
    for (const char* w : prefix) {
      if ((*words)[i++] != w) return false;
    }
    return true;
  };
  if (starts({"backup", "protection", "enable-for-vm"})) {
    words->erase(words->begin(), words->begin() + 2);
  } else if (starts({"protection", "enable-for-vm"})) {
    words->erase(words->begin());
  } else if (starts({"vm", "extension", "list"})) {
    words->erase(words->begin());
  }
  for (auto [az, ours] : {std::pair<const char*, const char*>{"policy-name", "policy"}, {"vm-name", "vm"}}) {
    auto it = opt->find(az);
    if (it == opt->end()) continue;
    if (opt->count(ours) && (*opt)[ours] != it->second) {
      return absl::StrCat("--", az, " and --", ours, " name different values");
    }
    (*opt)[ours] = it->second;
    opt->erase(it);
  }
  return "";
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "backupsvc: %s\n", std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words;
  std::map<std::string, std::string> opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "-o") a = "--o";  // az's short form of --output (table or json) for `extension list`
    if (a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) return Usage(absl::StrCat(a, " needs a value"));
      opt[a.substr(2)] = argv[++i];
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) return Usage("no command given");
  if (std::string problem = NormalizeAzForms(&words, &opt); !problem.empty()) return Usage(problem);
  static const char* kKnown[] = {
      "vm",    "policy",         "blob-endpoint", "resource-group", "vault-name",       "o",
      "disks", "disk-size",      "locale",        "vmsnapshot",     "freeze-provider",  "vss-socket",
      "now",   "recovery-point", "output",        "vm-dir",         "account-key-file", "state-dir"};
  for (const auto& [k, v] : opt) {
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown))
      return Usage(absl::StrCat("unknown option --", k));
  }
  auto transport = vmb::http::NewCurlTransport();
  vmb::sim::ServiceOptions so;
  so.transport = transport.get();
  absl::StatusOr<std::string> key = vmb::cli::ReadAccountKey("", opt["account-key-file"]);
  if (!key.ok()) {
    std::fprintf(stderr, "backupsvc: %s\n", std::string(key.status().message()).c_str());
    return 2;
  }
  so.account_key = *key;
  so.resource_group = opt["resource-group"];
  so.vault_name = opt["vault-name"];
  so.state_dir = !opt["state-dir"].empty()           ? opt["state-dir"]
                 : std::getenv("VMBACKUP_STATE_DIR") ? std::getenv("VMBACKUP_STATE_DIR")
                                                     : "backupsvc-state";
  int disks = 2;
  if (!opt["disks"].empty() && (!absl::SimpleAtoi(opt["disks"], &disks) || disks < 1 || disks > 256)) {
    return Usage("--disks needs a number from 1 to 256");
  }
  uint64_t disk_mb = 4;
  if (!opt["disk-size"].empty() && (!absl::SimpleAtoi(opt["disk-size"], &disk_mb) || disk_mb < 1)) {
    return Usage("--disk-size needs megabytes");
  }
  std::string locale = opt["locale"].empty() ? "en-us" : opt["locale"];
  const std::string& command = words[0];
  const std::string& vm = opt["vm"];

  if (opt["blob-endpoint"].empty() && std::getenv("VMBACKUP_BLOB_ENDPOINT") != nullptr) {
    opt["blob-endpoint"] = std::getenv("VMBACKUP_BLOB_ENDPOINT");
  }
  if (command == "enable-for-vm") {
    if (vm.empty() || opt["blob-endpoint"].empty()) {
      return Usage("enable-for-vm needs --vm and --blob-endpoint (or $VMBACKUP_BLOB_ENDPOINT)");
    }
    auto v = vmb::sim::EnableForVm(so, vm, opt["policy"].empty() ? "DefaultPolicy" : opt["policy"],
                                   opt["blob-endpoint"], disks, disk_mb << 20, locale);
    if (!v.ok()) return Fail(v.status());
    std::printf("protected VM %s with policy %s (%d disk(s) of %llu MiB)\n", vm.c_str(), v->policy().c_str(), disks,
                static_cast<unsigned long long>(disk_mb));
    return 0;
  }
  if (command == "backup") {
    if (vm.empty()) return Usage("backup needs --vm");
    vmb::sim::BackupOptions b;
    b.vmsnapshot = !opt["vmsnapshot"].empty() ? opt["vmsnapshot"] : "vmsnapshot";
    if (!opt["freeze-provider"].empty()) b.freeze_provider = opt["freeze-provider"];
    if (!opt["vss-socket"].empty()) b.extra_args = {"--vss-socket", opt["vss-socket"]};
    auto rp = vmb::sim::RunBackup(so, vm, b);
    if (!rp.ok()) return Fail(rp.status());
    std::printf("recovery point %s: %s (code %d), %d snapshot(s)\n", rp->id().c_str(), rp->status().c_str(), rp->code(),
                rp->snapshoturis_size());
    return rp->status() == "success" ? 0 : 1;
  }
  if (command == "run-due") {
    if (vm.empty()) return Usage("run-due needs --vm");
    vmb::sim::BackupOptions b;
    b.vmsnapshot = !opt["vmsnapshot"].empty() ? opt["vmsnapshot"] : "vmsnapshot";
    if (!opt["freeze-provider"].empty()) b.freeze_provider = opt["freeze-provider"];
    if (!opt["vss-socket"].empty()) b.extra_args = {"--vss-socket", opt["vss-socket"]};
    absl::Time now = absl::Now();
    std::string err;
    if (!opt["now"].empty() && !absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", opt["now"], absl::UTCTimeZone(), &now, &err)) {
      return Usage("--now needs a time like 2026-11-22T23:00:00Z");
    }
    auto r = vmb::sim::RunDueBackup(so, vm, b, now);
    if (!r.ok()) return Fail(r.status());
    if (r->ran) {
      std::printf("scheduled backup ran: recovery point %s: %s (code %d)\n", r->recovery_point.id().c_str(),
                  r->recovery_point.status().c_str(), r->recovery_point.code());
    } else {
      std::printf("no backup due\n");
    }
    std::printf("next scheduled backup: %s\n",
                absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", r->next_due, absl::UTCTimeZone()).c_str());
    return r->ran && r->recovery_point.status() != "success" ? 1 : 0;
  }
  if (command == "extension" && words.size() > 1 && words[1] == "list") {
    if (vm.empty()) return Usage("extension list needs --vm (or --vm-name)");
    const std::string format = opt["o"].empty() ? (opt["output"].empty() ? "table" : opt["output"]) : opt["o"];
    if (format != "table" && format != "json") return Usage("extension list: -o takes table or json");
    if (format == "json") {
      auto json = vmb::sim::ExtensionListJson(so, vm);
      if (!json.ok()) return Fail(json.status());
      std::fputs(json->c_str(), stdout);
      return 0;
    }
    auto table = vmb::sim::ExtensionList(so, vm);
    if (!table.ok()) return Fail(table.status());
    std::fputs(table->c_str(), stdout);
    return 0;
  }
  if (command == "list") {
    if (vm.empty()) return Usage("list needs --vm");
    auto rps = vmb::sim::ListRecoveryPoints(so, vm);
    if (!rps.ok()) return Fail(rps.status());
    for (const auto& rp : *rps) {
      std::printf("%-8s %-20s %-8s code %-4d %d snapshot(s)\n", rp.id().c_str(), rp.time().c_str(), rp.status().c_str(),
                  rp.code(), rp.snapshoturis_size());
    }
    return 0;
  }
  if (command == "restore") {
    if (vm.empty() || opt["recovery-point"].empty() || opt["output"].empty()) {
      return Usage("restore needs --vm, --recovery-point and --output");
    }
    auto files = vmb::sim::Restore(so, vm, opt["recovery-point"], opt["output"]);
    if (!files.ok()) return Fail(files.status());
    for (const auto& f : *files) std::printf("restored %s\n", f.c_str());
    return 0;
  }
  if (command == "prepare" || command == "collect") {
    vmb::sim::BackupJobSpec spec;
    spec.vm_dir = opt["vm-dir"];
    spec.blob_endpoint = opt["blob-endpoint"];
    spec.account_key = so.account_key;
    spec.disks = disks;
    spec.locale = locale;
    spec.transport = transport.get();
    if (spec.vm_dir.empty() || spec.blob_endpoint.empty()) return Usage("--vm-dir and --blob-endpoint are required");
    if (command == "prepare") {
      auto job = vmb::sim::PrepareBackupJob(spec);
      if (!job.ok()) return Fail(job.status());
      std::printf("backup job %s: settings %d written for %d disk(s)\n", job->task_id.c_str(), job->seq, spec.disks);
      std::printf("run: vmsnapshot enable --handler-environment %s --cert-dir %s\n", job->handler_environment.c_str(),
                  job->cert_dir.c_str());
      return 0;
    }
    auto rp = vmb::sim::CollectBackupJob(spec);
    if (!rp.ok()) return Fail(rp.status());
    std::printf("extension status: %s (code %d)\n", rp->status.c_str(), rp->code);
    for (const std::string& s : rp->snapshot_uris) std::printf("  snapshot verified: %s\n", s.c_str());
    std::printf("recovery point: %zu snapshot(s)\n", rp->snapshot_uris.size());
    return rp->status == "success" ? 0 : 1;
  }
  return Usage(absl::StrCat("unknown command \"", command, "\""));
}
