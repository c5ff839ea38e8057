// backupsvc: plays the backup service for the snapshot extension on one machine.
//
//   backupsvc prepare --vm-dir DIR --blob-endpoint URL [--disks N] [--locale L] [--account-key KEY]
//   backupsvc collect --vm-dir DIR --blob-endpoint URL [--account-key KEY]
#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/http/curl_transport.h"
#include "simulators/backup_service/backup_service.h"

namespace {

constexpr char kUsage[] = R"(usage:
  backupsvc prepare --vm-dir DIR --blob-endpoint URL [--disks N] [--locale L] [--account-key KEY]
      creates the VM's certificate (once), its disks as page blobs, the handler folder and the next encrypted
      <N>.settings; prints the vmsnapshot command to run
  backupsvc collect --vm-dir DIR --blob-endpoint URL [--account-key KEY]
      reads the status blob, verifies every reported snapshot exists, prints the recovery point
The account key defaults to Azurite's development key.
)";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "backupsvc: %s\n(run `backupsvc --help` for usage)\n", problem.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command;
  vmb::sim::BackupJobSpec spec;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--vm-dir") {
      if (!next(&spec.vm_dir)) return Usage("--vm-dir needs a directory");
    } else if (a == "--blob-endpoint") {
      if (!next(&spec.blob_endpoint)) return Usage("--blob-endpoint needs a URL");
    } else if (a == "--account-key") {
      if (!next(&spec.account_key)) return Usage("--account-key needs a key");
    } else if (a == "--locale") {
      if (!next(&spec.locale)) return Usage("--locale needs a value");
    } else if (a == "--disks") {
      if (!next(&v) || !absl::SimpleAtoi(v, &spec.disks) || spec.disks < 1 || spec.disks > 256) {
        return Usage("--disks needs a number from 1 to 256");
      }
    } else if (command.empty() && a[0] != '-') {
      command = a;
    } else {
      return Usage(absl::StrCat("unexpected argument ", a));
    }
  }
  if (spec.vm_dir.empty() || spec.blob_endpoint.empty()) return Usage("--vm-dir and --blob-endpoint are required");
  auto transport = vmb::http::NewCurlTransport();
  spec.transport = transport.get();
  if (command == "prepare") {
    absl::StatusOr<vmb::sim::PreparedJob> job = vmb::sim::PrepareBackupJob(spec);
    if (!job.ok()) {
      std::fprintf(stderr, "backupsvc: prepare failed: %s\n", std::string(job.status().message()).c_str());
      return 1;
    }
    std::printf("backup job %s: settings %d written for %d disk(s)\n", job->task_id.c_str(), job->seq, spec.disks);
    std::printf("run: vmsnapshot enable --handler-environment %s --cert-dir %s\n", job->handler_environment.c_str(),
                job->cert_dir.c_str());
    return 0;
  }
  if (command == "collect") {
    absl::StatusOr<vmb::sim::RecoveryPoint> rp = vmb::sim::CollectBackupJob(spec);
    if (!rp.ok()) {
      std::fprintf(stderr, "backupsvc: collect failed: %s\n", std::string(rp.status().message()).c_str());
      return 1;
    }
    std::printf("extension status: %s (code %d)\n", rp->status.c_str(), rp->code);
    for (const std::string& s : rp->snapshot_uris) std::printf("  snapshot verified: %s\n", s.c_str());
    std::printf("recovery point: %zu snapshot(s)\n", rp->snapshot_uris.size());
    return rp->status == "success" ? 0 : 1;
  }
  return Usage(command.empty() ? "no command given" : absl::StrCat("unknown command \"", command, "\""));
}
