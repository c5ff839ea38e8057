#include "simulators/backup_service/service.h"

#include <dirent.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/blob/blob_client.h"
#include "common/blob/dev_account.h"
#include "common/blob/shared_key.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/process/subprocess.h"
#include "common/status/status_macros.h"
#include "simulators/backup_service/backup_service.h"
#include "simulators/vhd/vhd.h"

namespace vmb::sim {
namespace {

std::string VmDir(const ServiceOptions& o, const std::string& vm) { return absl::StrCat(o.state_dir, "/vms/", vm); }
std::string VmFile(const ServiceOptions& o, const std::string& vm) { return VmDir(o, vm) + "/vm.json"; }
std::string RpDir(const ServiceOptions& o, const std::string& vm) { return VmDir(o, vm) + "/recovery_points"; }

absl::StatusOr<proto::ProtectedVm> LoadVm(const ServiceOptions& o, const std::string& vm) {
  absl::StatusOr<std::string> text = file::ReadFile(VmFile(o, vm));
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat("VM ", vm, " is not protected here; run `backupsvc enable-for-vm --vm ", vm, " ...` first"));
  }
  proto::ProtectedVm v;
  RETURN_IF_ERROR(json::Parse(*text, &v, VmFile(o, vm)));
  if (!o.resource_group.empty() && !v.resourcegroup().empty() && o.resource_group != v.resourcegroup()) {
    return absl::NotFoundError(absl::StrCat("VM ", vm, " was not found in resource group ", o.resource_group,
                                            " (it is protected in ", v.resourcegroup(), ")"));
  }
  if (!o.vault_name.empty() && !v.vaultname().empty() && o.vault_name != v.vaultname()) {
    return absl::NotFoundError(
        absl::StrCat("VM ", vm, " is not protected by vault ", o.vault_name, " (its vault is ", v.vaultname(), ")"));
  }
  return v;
}

absl::Status SaveVm(const ServiceOptions& o, const proto::ProtectedVm& v) {
  return file::WriteFileAtomic(VmFile(o, v.name()), json::ToJson(v, true), 0644);
}

BackupJobSpec SpecFor(const ServiceOptions& o, const proto::ProtectedVm& v) {
  BackupJobSpec spec;
  spec.vm_dir = VmDir(o, v.name());
  spec.blob_endpoint = v.blobendpoint();
  spec.account_key = o.account_key;
  spec.disks = v.disks();
  spec.disk_size = v.disksize();
  spec.locale = v.locale();
  spec.transport = o.transport;
  return spec;
}

bool ValidVmName(const std::string& vm) {
  if (vm.empty() || vm.size() > 40) return false;
  for (char c : vm) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<proto::ProtectedVm> EnableForVm(const ServiceOptions& o, const std::string& vm,
                                               const std::string& policy, const std::string& blob_endpoint, int disks,
                                               uint64_t disk_size, const std::string& locale) {
  if (!ValidVmName(vm)) {
    return absl::InvalidArgumentError(absl::StrCat("VM name \"", vm, "\" must be 1-40 letters, digits or '-'"));
  }
  if (policy != "DefaultPolicy") {
    return absl::InvalidArgumentError(absl::StrCat("unknown policy \"", policy, "\"; available: DefaultPolicy"));
  }
  if (file::ReadFile(VmFile(o, vm)).ok()) {
    return absl::AlreadyExistsError(absl::StrCat("VM ", vm, " is already protected"));
  }
  proto::ProtectedVm v;
  v.set_name(vm);
  v.set_policy(policy);
  v.set_resourcegroup(o.resource_group);
  v.set_vaultname(o.vault_name);
  v.set_blobendpoint(blob_endpoint);
  v.set_disks(disks);
  v.set_disksize(disk_size);
  v.set_locale(locale);
  RETURN_IF_ERROR(file::MakeDirs(RpDir(o, vm)));
  RETURN_IF_ERROR(SaveVm(o, v));
  return v;
}

absl::StatusOr<proto::RecoveryPoint> RunBackup(const ServiceOptions& o, const std::string& vm, const BackupOptions& b) {
  ASSIGN_OR_RETURN(proto::ProtectedVm v, LoadVm(o, vm));
  BackupJobSpec spec = SpecFor(o, v);
  ASSIGN_OR_RETURN(PreparedJob job, PrepareBackupJob(spec));
  if (!v.extensioninstalled()) {
    // The first backup installs the extension into the VM's handler folder.
    static constexpr char kManifest[] =
        R"([{"version":1.0,"handlerManifest":{"installCommand":"vmsnapshot install","uninstallCommand":)"
        R"("vmsnapshot uninstall","updateCommand":"vmsnapshot update","enableCommand":"vmsnapshot enable",)"
        R"("disableCommand":"vmsnapshot disable","rebootAfterInstall":false,"reportHeartbeat":false}}])";
    RETURN_IF_ERROR(file::WriteFileAtomic(spec.vm_dir + "/HandlerManifest.json", kManifest, 0644));
    process::RunOptions install;
    install.cwd = spec.vm_dir;
    install.timeout_ms = 60000;
    absl::StatusOr<process::CommandResult> r = process::RunCommand(
        {b.vmsnapshot, "install", "--thaw-check-file", spec.vm_dir + "/vmsnapshot-thaw-check.cron"}, install);
    if (!r.ok()) return r.status();
    v.set_extensioninstalled(r->exit_code == 0);
    // The version the publisher built into the handler (as Azure lists the version of the package it installed).
    absl::StatusOr<process::CommandResult> version = process::RunCommand({b.vmsnapshot, "--version"}, install);
    std::string words =
        version.ok() && version->exit_code == 0 ? std::string(absl::StripAsciiWhitespace(version->stdout_data)) : "";
    v.set_extensionversion(words.empty() ? "unknown" : words.substr(words.find_last_of(' ') + 1));
  }
  process::RunOptions run;
  run.cwd = spec.vm_dir;  // the agent starts handlers in their folder; HandlerEnvironment.json is found there
  run.extra_env = {absl::StrCat("ConfigSequenceNumber=", job.seq)};
  run.timeout_ms = b.timeout_seconds * 1000;
  std::vector<std::string> argv = {b.vmsnapshot,        "enable",         "--cert-dir", job.cert_dir,
                                   "--freeze-provider", b.freeze_provider};
  argv.insert(argv.end(), b.extra_args.begin(), b.extra_args.end());
  absl::StatusOr<process::CommandResult> r = process::RunCommand(argv, run);
  if (!r.ok()) return r.status();

  proto::RecoveryPoint rp;
  std::vector<proto::RecoveryPoint> existing = ListRecoveryPoints(o, vm).value_or(std::vector<proto::RecoveryPoint>{});
  rp.set_id(absl::StrCat("rp-", existing.size() + 1));
  rp.set_vm(vm);
  rp.set_taskid(job.task_id);
  rp.set_seq(job.seq);
  rp.set_time(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()));
  absl::StatusOr<RecoveryPoint> collected = CollectBackupJob(spec);
  if (collected.ok()) {
    rp.set_status(collected->status);
    rp.set_code(collected->code);
    rp.set_message(collected->message);
    for (const std::string& s : collected->snapshot_uris) rp.add_snapshoturis(s);
  } else {
    rp.set_status("error");
    rp.set_code(r->exit_code == 128 + 9 ? 2 : 15);
    rp.set_message(
        absl::StrCat("no usable status from the extension (exit ", r->exit_code, "): ", collected.status().message()));
  }
  v.set_lastoperationstatus(rp.status() == "success" ? "Succeeded" : "Failed");
  RETURN_IF_ERROR(SaveVm(o, v));
  RETURN_IF_ERROR(
      file::WriteFileAtomic(absl::StrCat(RpDir(o, vm), "/", rp.id(), ".json"), json::ToJson(rp, true), 0644));
  return rp;
}

absl::Time LastScheduledSlot(absl::Time now) {
  absl::CivilDay day = absl::ToCivilDay(now, absl::UTCTimeZone());
  absl::Time slot = absl::FromCivil(absl::CivilMinute(day.year(), day.month(), day.day(), 22, 30), absl::UTCTimeZone());
  return slot <= now ? slot : slot - absl::Hours(24);
}

absl::StatusOr<ScheduleResult> RunDueBackup(const ServiceOptions& o, const std::string& vm, const BackupOptions& b,
                                            absl::Time now) {
  ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> rps, ListRecoveryPoints(o, vm));
  absl::Time slot = LastScheduledSlot(now);
  bool covered = false;
  for (const auto& rp : rps) {
    absl::Time t;
    std::string err;
    if (absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", rp.time(), absl::UTCTimeZone(), &t, &err) && t >= slot) covered = true;
  }
  ScheduleResult result;
  result.next_due = slot + absl::Hours(24);
  if (covered) return result;
  ASSIGN_OR_RETURN(result.recovery_point, RunBackup(o, vm, b));
  result.ran = true;
  return result;
}

absl::StatusOr<std::string> ExtensionList(const ServiceOptions& o, const std::string& vm) {
  ASSIGN_OR_RETURN(proto::ProtectedVm v, LoadVm(o, vm));
  std::string out = absl::StrFormat("%-12s %-10s %-20s %-34s %-7s %s\n", "Name", "Location", "ProvisioningState",
                                    "Publisher", "Version", "AutoUpgradeMinorVersion");
  absl::StrAppend(&out, absl::StrFormat("%-12s %-10s %-20s %-34s %-7s %-23s\n", "------------", "----------",
                                        "--------------------", "----------------------------------", "-------",
                                        "-----------------------"));
  if (v.extensioninstalled()) {
    absl::StrAppend(&out, absl::StrFormat("%-12s %-10s %-20s %-34s %-7s %s\n", "VMSnapshot", "local",
                                          v.lastoperationstatus().empty() ? "Succeeded" : v.lastoperationstatus(),
                                          "Microsoft.Azure.RecoveryServices", v.extensionversion(), "True"));
  }
  return out;
}

absl::StatusOr<std::string> ExtensionListJson(const ServiceOptions& o, const std::string& vm) {
  ASSIGN_OR_RETURN(proto::ProtectedVm v, LoadVm(o, vm));
  proto::ExtensionListing listing;
  if (v.extensioninstalled()) {
    proto::Extension* e = listing.add_items();
    e->set_name("VMSnapshot");
    e->set_location("local");
    e->set_provisioningstate(v.lastoperationstatus().empty() ? "Succeeded" : v.lastoperationstatus());
    e->set_publisher("Microsoft.Azure.RecoveryServices");
    e->set_typepropertiestype("VMSnapshotLinux");
    e->set_typehandlerversion(v.extensionversion());
    e->set_autoupgrademinorversion(true);
    e->set_resourcegroup(v.resourcegroup());
  }
  return json::ToJsonArray(listing, true) + "\n";
}

absl::StatusOr<std::vector<proto::RecoveryPoint>> ListRecoveryPoints(const ServiceOptions& o, const std::string& vm) {
  RETURN_IF_ERROR(LoadVm(o, vm).status());
  std::vector<proto::RecoveryPoint> out;
  DIR* d = ::opendir(RpDir(o, vm).c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    absl::string_view n = e->d_name;
    if (!absl::EndsWith(n, ".json")) continue;
    absl::StatusOr<std::string> text = file::ReadFile(absl::StrCat(RpDir(o, vm), "/", n));
    proto::RecoveryPoint rp;
    if (text.ok() && json::Parse(*text, &rp, n).ok()) out.push_back(rp);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    int x = 0, y = 0;
    absl::SimpleAtoi(absl::string_view(a.id()).substr(3), &x);
    absl::SimpleAtoi(absl::string_view(b.id()).substr(3), &y);
    return x < y;
  });
  return out;
}

absl::StatusOr<std::vector<std::string>> Restore(const ServiceOptions& o, const std::string& vm,
                                                 const std::string& recovery_point, const std::string& output_dir) {
  ASSIGN_OR_RETURN(std::vector<proto::RecoveryPoint> rps, ListRecoveryPoints(o, vm));
  const proto::RecoveryPoint* rp = nullptr;
  for (const auto& r : rps) {
    if (r.id() == recovery_point) rp = &r;
  }
  if (rp == nullptr) {
    return absl::NotFoundError(absl::StrCat("no recovery point ", recovery_point, " for VM ", vm,
                                            " (`backupsvc list --vm ", vm, "` shows them)"));
  }
  if (rp->status() != "success") {
    return absl::FailedPreconditionError(
        absl::StrCat("recovery point ", recovery_point, " failed (code ", rp->code(), "); choose a successful one"));
  }
  ASSIGN_OR_RETURN(proto::ProtectedVm v, LoadVm(o, vm));
  ASSIGN_OR_RETURN(blob::BlobUri account, blob::BlobUri::ForAccount(v.blobendpoint()));
  ASSIGN_OR_RETURN(blob::SharedKeyCredential cred,
                   blob::SharedKeyCredential::Create(account.account(),
                                                     o.account_key.empty() ? blob::kDevAccountKey : o.account_key));
  blob::BlobClient client(o.transport, cred);
  RETURN_IF_ERROR(file::MakeDirs(output_dir));
  std::vector<std::string> written;
  for (const std::string& uri : rp->snapshoturis()) {
    ASSIGN_OR_RETURN(blob::BlobUri snap, blob::BlobUri::Parse(uri));
    ASSIGN_OR_RETURN(blob::BlobProperties props, client.GetProperties(snap));
    std::string name = snap.blob().substr(snap.blob().find_last_of('/') + 1);
    std::string path = absl::StrCat(output_dir, "/", name);
    ASSIGN_OR_RETURN(std::unique_ptr<vhd::VhdFile> disk,
                     vhd::VhdFile::Create(path, vhd::DiskType::kFixed, props.content_length));
    // Only the pages that hold data are fetched; the rest of a fixed VHD is zeros already.
    ASSIGN_OR_RETURN(std::vector<blob::ByteRange> ranges, client.GetPageRanges(snap));
    for (const blob::ByteRange& range : ranges) {
      for (uint64_t off = 0; off < range.length; off += 4u << 20) {
        uint64_t n = std::min<uint64_t>(4u << 20, range.length - off);
        ASSIGN_OR_RETURN(std::string data, client.GetBlob(snap, blob::ByteRange{range.offset + off, n}));
        RETURN_IF_ERROR(disk->Write(range.offset + off, data));
      }
    }
    RETURN_IF_ERROR(disk->Flush());
    written.push_back(path);
  }
  return written;
}

}  // namespace vmb::sim
