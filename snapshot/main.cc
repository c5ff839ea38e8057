// vmsnapshot: the VMSnapshot extension handler.
//
//   vmsnapshot enable|install|disable|uninstall|update [options]
//   vmsnapshot replay FIXTURE... --blob-endpoint URL [--account-key-file FILE]
//
// The guest agent runs the handler commands from the handler folder (see HandlerManifest.json).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/cli/account_key.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "snapshot/proto/handler.pb.h"
#include "common/http/curl_transport.h"
#include "snapshot/enable_job.h"
#include "snapshot/error_codes.h"
#include "snapshot/freeze_factory.h"
#include "snapshot/fsfreeze/freeze_record.h"
#include "snapshot/fsfreeze/fsfreeze_provider.h"
#include "snapshot/fsfreeze/holder.h"
#include "snapshot/fsfreeze/syscalls.h"
#include "snapshot/replay.h"
#include "snapshot/status_report.h"

namespace {

constexpr char kUsage[] = R"(usage: vmsnapshot COMMAND [options]

Handler commands (run by the guest agent from the handler folder):
  enable      take a snapshot of every disk listed in the settings and report the status
  install     prepare the handler (nothing to do; reports success)
  disable     stop the handler (no state is left behind; reports success)
  uninstall   remove the handler (reports success)
  update      update the handler (reports success)

Options:
  --handler-environment PATH  HandlerEnvironment.json (default: ./HandlerEnvironment.json)
  --cert-dir DIR              where <THUMBPRINT>.crt/.prv live (default: "certDir" in the config file, else the
                              guest agent's lib dir: the parent of $AZURE_GUEST_AGENT_EXTENSION_PATH, else
                              /var/lib/waagent)
  --seq N                     settings sequence number (default: $ConfigSequenceNumber, else the highest
                              <configFolder>/<N>.settings)
  --config PATH               the extension's config file (default: /etc/azure/vmsnapshot.json when present):
                              {"freezeProvider", "freezeSkipMounts", "freezeLockFile", "scriptConfig",
                              "vssSocket", "deadlineSeconds", "certDir"}; options given here win over it
  --freeze-provider NAME      none (crash-consistent) or fsfreeze (file-system consistent: FIFREEZE/FITHAW on
                              ext3/ext4/xfs/btrfs, held by a watchdog process) (default: none)
                              or scripts (pre/post scripts, application-consistent; see --script-config)
                              or vss-sim (the VSS simulator's writers; see --vss-socket)
  --vss-socket PATH           vss-sim: the guest application's VSS socket (default: /run/vmbackup-vss.sock)
  --script-config PATH        scripts: VMSnapshotScriptPluginConfig.json
                              (default: /etc/azure/VMSnapshotScriptPluginConfig.json; mode 0600, owned by root)
  --freeze-skip-mount PATH    fsfreeze: never freeze this mount point (repeatable)
  --freeze-lock-file PATH     fsfreeze: the global freeze lock (default: /run/lock/vmsnapshot-freeze.lock); the
                              freeze record is PATH.state
  --thaw-check-file PATH      install/uninstall: the cron file of the per-minute stale-freeze check
                              (default: /etc/cron.d/vmsnapshot-thaw-check; "" for none)
  --freeze-dry-run-log FILE   fsfreeze: make no freeze system calls, log what would be frozen and thawed
  --freeze-mounts-file FILE   fsfreeze: read mounts from FILE instead of /proc/self/mounts (rehearsals)
  --freeze-trace-log FILE     fsfreeze: make the real calls and log each freeze and thaw with its time (FILE must
                              not be on a file system that gets frozen)
  --deadline SECONDS          overall limit for enable (default: 270; the agent stops handlers at 300)
  --verbose                   also print the job log on stderr
  --help                      this text
  --version                   print the handler's name and version

  freeze-check [--hold-ms N] [--budget-ms N]
              freeze what --freeze-provider would freeze (fsfreeze: the eligible mounts), hold it N ms (default
              1000), thaw, and say how long it took and how it ended; checks that this VM can be frozen and
              thawed. With --budget-ms shorter than --hold-ms, the watchdog thaws first (code 122).
  thaw-stale  thaw a file-system freeze whose processes all died (see "No VM stays frozen" in README.md); every
              handler command does this first, and `install` sets up a per-minute and at-boot check
              (--thaw-check-file, default /etc/cron.d/vmsnapshot-thaw-check; `uninstall` removes it)

Internal (started by the fsfreeze provider; not for direct use):
  vmsnapshot freeze-holder --timeout-ms N --lock-file PATH [--dry-run-log FILE | --trace-log FILE] -- MOUNT...

Fixture replay (engineers):
  vmsnapshot replay FIXTURE_DIR... --blob-endpoint URL [--account-key-file FILE] [--work-dir DIR]
      maps each captured settings fixture onto the blob endpoint, runs enable, and compares the outcome with
      the fixture's expectation. Exit status 0 when every fixture passes.

Exit status (enable): 0 once the outcome is in the status file, success or not (as the real extension: the guest
agent forwards the status, code and substatus to Azure); 1 when no status file could be written (HandlerEnvironment.json
unreadable or malformed, status folder not writable); 2 on bad usage. Status codes are listed in README.md.
)";

constexpr char kDefaultThawCheckFile[] = "/etc/cron.d/vmsnapshot-thaw-check";

// The freeze system calls: real or rehearsed (a dry-run log, optionally failing one mount), traced when asked.
std::unique_ptr<vmb::snapshot::fsfreeze::FreezeSyscalls> FreezeSyscallsFor(const std::string& dry_run_log,
                                                                           const std::string& dry_run_fail,
                                                                           const std::string& trace_log) {
  std::unique_ptr<vmb::snapshot::fsfreeze::FreezeSyscalls> sys =
      dry_run_log.empty() ? vmb::snapshot::fsfreeze::RealFreezeSyscalls()
                          : vmb::snapshot::fsfreeze::DryRunFreezeSyscalls(dry_run_log, dry_run_fail);
  if (!trace_log.empty()) sys = vmb::snapshot::fsfreeze::TraceFreezeSyscalls(std::move(sys), trace_log);
  return sys;
}

// Thaws a freeze left behind by processes that all died at once (freeze_record.h). Reads only tmpfs before the
// thaw, so it works with the root file system frozen.
void SweepStaleFreeze(const vmb::snapshot::fsfreeze::FsFreezeOptions& o) {
  std::unique_ptr<vmb::snapshot::fsfreeze::FreezeSyscalls> sys = FreezeSyscallsFor(o.dry_run_log, "", "");
  vmb::snapshot::fsfreeze::SweepResult r = vmb::snapshot::fsfreeze::ThawStaleFreeze(*sys, o.lock_file, absl::Now());
  if (r.found) std::fprintf(stderr, "vmsnapshot: %s\n", r.note.c_str());
}

// install: the per-minute and at-boot stale-freeze check, as a cron file naming this binary. uninstall removes it.
std::string InstallThawCheck(const std::string& path, const std::string& lock_file) {
  if (path.empty()) return "no stale-freeze check installed (--thaw-check-file \"\")";
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "cannot find this binary's path; no stale-freeze check installed";
  self[n] = 0;
  std::string dir = path.substr(0, path.find_last_of('/'));
  if (::access(dir.c_str(), W_OK) != 0) {
    return absl::StrCat("no cron folder ", dir, ": stale freezes are thawed by the next vmsnapshot command only");
  }
  std::string command = absl::StrCat(self, " thaw-stale --freeze-lock-file ", lock_file, " >/dev/null 2>&1");
  std::string text = absl::StrCat(
      "# Installed by the VMSnapshot extension (vmsnapshot install), removed by vmsnapshot uninstall.\n",
      "# Thaws a file-system freeze left behind when every process of a backup died at once.\n",
      "* * * * * root ", command, "\n@reboot root ", command, "\n");
  absl::Status s = vmb::file::WriteFileAtomic(path, text, 0644);
  return s.ok() ? absl::StrCat("stale-freeze check installed: ", path) : std::string(s.message());
}

int Usage(const std::string& problem) {
  std::fprintf(stderr, "vmsnapshot: %s\n(run `vmsnapshot --help` for usage)\n", problem.c_str());
  return 2;
}

}  // namespace

// `freeze-holder`: the small process that holds an fsfreeze (see snapshot/fsfreeze/holder.h).
int FreezeHolderMain(const std::vector<std::string>& args) {
  vmb::snapshot::fsfreeze::HolderOptions o;
  std::string dry_run_log, dry_run_fail, trace_log;
  size_t i = 1;
  for (; i < args.size() && args[i] != "--"; ++i) {
    int64_t ms = 0;
    if (args[i] == "--timeout-ms" && i + 1 < args.size() && absl::SimpleAtoi(args[i + 1], &ms) && ms > 0) {
      o.timeout = absl::Milliseconds(ms);
      ++i;
    } else if (args[i] == "--lock-file" && i + 1 < args.size()) {
      o.lock_file = args[++i];
    } else if (args[i] == "--dry-run-log" && i + 1 < args.size()) {
      dry_run_log = args[++i];
    } else if (args[i] == "--dry-run-fail" && i + 1 < args.size()) {
      dry_run_fail = args[++i];
    } else if (args[i] == "--trace-log" && i + 1 < args.size()) {
      trace_log = args[++i];
    } else {
      return Usage(absl::StrCat("freeze-holder: unexpected argument ", args[i]));
    }
  }
  for (++i; i < args.size(); ++i) o.mounts.push_back(args[i]);
  std::unique_ptr<vmb::snapshot::fsfreeze::FreezeSyscalls> sys = FreezeSyscallsFor(dry_run_log, dry_run_fail, trace_log);
  return vmb::snapshot::fsfreeze::RunHolder(*sys, o, 0, 1);
}

int main(int argc, char** argv) {
  // A write to a freeze holder that has already thawed and exited (the watchdog) must fail with EPIPE and be
  // reported (code 122), not kill the extension before it writes its status.
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage("no command given");
  if (args[0] == "freeze-holder") return FreezeHolderMain(args);
  vmb::snapshot::fsfreeze::FsFreezeOptions fsfreeze;
  std::string script_config, vss_socket;

  // The config file first; the command line then overrides it.
  std::string config_path = "/etc/azure/vmsnapshot.json";
  bool config_explicit = false;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--config") {
      config_path = args[i + 1];
      config_explicit = true;
    }
  }
  vmb::snapshot::proto::ExtensionConfig config;
  absl::StatusOr<std::string> config_text = vmb::file::ReadFile(config_path);
  if (config_text.ok()) {
    absl::Status parsed = vmb::json::ParseLenient(*config_text, &config, config_path);
    if (!parsed.ok()) return Usage(std::string(parsed.message()));
  } else if (config_explicit) {
    return Usage(absl::StrCat("cannot read --config: ", config_text.status().message()));
  }
  std::string command;
  std::vector<std::string> positional;
  vmb::snapshot::EnableOptions options;
  std::string freeze_name = "none";
  if (!config.freezeprovider().empty()) freeze_name = config.freezeprovider();
  for (const std::string& m : config.freezeskipmounts()) fsfreeze.skip_mounts.push_back(m);
  if (!config.freezelockfile().empty()) fsfreeze.lock_file = config.freezelockfile();
  std::string thaw_check_file = config.has_thawcheckfile() ? config.thawcheckfile() : kDefaultThawCheckFile;
  // The agent keeps <THUMBPRINT>.crt/.prv in its lib dir, the parent of every handler folder; it names the handler
  // folder in AZURE_GUEST_AGENT_EXTENSION_PATH (waagent 2.7 and later) but never the lib dir itself.
  if (const char* ext_path = std::getenv("AZURE_GUEST_AGENT_EXTENSION_PATH"); ext_path && *ext_path) {
    std::string p = ext_path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (size_t slash = p.find_last_of('/'); slash != std::string::npos && slash > 0) options.cert_dir = p.substr(0, slash);
  }
  if (!config.certdir().empty()) options.cert_dir = config.certdir();
  script_config = config.scriptconfig();
  vss_socket = config.vsssocket();
  if (config.deadlineseconds() > 0 && config.deadlineseconds() <= 290) options.deadline = absl::Seconds(config.deadlineseconds());
  std::string endpoint, account_key_file, work_dir;
  int64_t hold_ms = 1000, budget_ms = 60000;  // freeze-check
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h" || a == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("%s %s\n", vmb::snapshot::kExtensionName, vmb::snapshot::kExtensionVersion);
      return 0;
    } else if (a == "--handler-environment") {
      if (!value(&options.handler_environment)) return Usage("--handler-environment needs a path");
    } else if (a == "--cert-dir") {
      if (!value(&options.cert_dir)) return Usage("--cert-dir needs a directory");
    } else if (a == "--seq") {
      int n = 0;
      if (!value(&v) || !absl::SimpleAtoi(v, &n) || n < 0) return Usage("--seq needs a non-negative number");
      options.seq = n;
    } else if (a == "--freeze-provider") {
      if (!value(&freeze_name)) return Usage("--freeze-provider needs a name");
    } else if (a == "--deadline") {
      int s = 0;
      if (!value(&v) || !absl::SimpleAtoi(v, &s) || s <= 0 || s > 290) {
        return Usage("--deadline needs seconds between 1 and 290");
      }
      options.deadline = absl::Seconds(s);
    } else if (a == "--freeze-skip-mount") {
      if (!value(&v)) return Usage("--freeze-skip-mount needs a mount point");
      fsfreeze.skip_mounts.push_back(v);
    } else if (a == "--freeze-lock-file") {
      if (!value(&fsfreeze.lock_file)) return Usage("--freeze-lock-file needs a path");
    } else if (a == "--hold-ms" || a == "--budget-ms") {
      int64_t* target = a == "--hold-ms" ? &hold_ms : &budget_ms;
      if (!value(&v) || !absl::SimpleAtoi(v, target) || *target <= 0) return Usage(a + " needs milliseconds");
    } else if (a == "--thaw-check-file") {
      if (!value(&thaw_check_file)) return Usage("--thaw-check-file needs a path (or \"\")");
    } else if (a == "--config") {
      ++i;  // read above
    } else if (a == "--vss-socket") {
      if (!value(&vss_socket)) return Usage("--vss-socket needs a path");
    } else if (a == "--script-config") {
      if (!value(&script_config)) return Usage("--script-config needs a path");
    } else if (a == "--freeze-mounts-file") {
      if (!value(&fsfreeze.mounts_file)) return Usage("--freeze-mounts-file needs a file");
    } else if (a == "--freeze-trace-log") {
      if (!value(&fsfreeze.trace_log)) return Usage("--freeze-trace-log needs a file");
    } else if (a == "--freeze-dry-run-log") {
      if (!value(&fsfreeze.dry_run_log)) return Usage("--freeze-dry-run-log needs a file");
    } else if (a == "--verbose") {
      options.echo_log_to_stderr = true;
    } else if (a == "--blob-endpoint") {
      if (!value(&endpoint)) return Usage("--blob-endpoint needs a URL");
    } else if (a == "--account-key-file") {
      if (!value(&account_key_file)) return Usage("--account-key-file needs a file");
    } else if (a == "--work-dir") {
      if (!value(&work_dir)) return Usage("--work-dir needs a directory");
    } else if (absl::StartsWith(a, "-")) {
      return Usage(absl::StrCat("unknown option ", a));
    } else if (command.empty()) {
      command = a;
    } else {
      positional.push_back(a);
    }
  }
  // Every handler command first thaws what a backup whose processes all died may have left frozen.
  const bool handler_command = command == "enable" || command == "install" || command == "disable" ||
                               command == "uninstall" || command == "update" || command == "thaw-stale";
  if (handler_command) SweepStaleFreeze(fsfreeze);
  if (command == "thaw-stale") return 0;
  auto transport = vmb::http::NewCurlTransport();
  options.transport = transport.get();
  absl::StatusOr<std::unique_ptr<vmb::snapshot::FreezeProvider>> freeze =
      vmb::snapshot::MakeFreezeProvider(freeze_name, fsfreeze, script_config, vss_socket);
  if (!freeze.ok()) return Usage(std::string(freeze.status().message()));
  options.freeze = freeze->get();

  if (command == "enable") {
    vmb::snapshot::EnableResult r = vmb::snapshot::RunEnable(options);
    const vmb::snapshot::CodeInfo& info = vmb::snapshot::InfoFor(r.code);
    std::fprintf(r.status == "success" ? stdout : stderr, "vmsnapshot: %s %d (%s): %s\n",
                 r.status == "success" ? "done," : "error", r.code, info.name, r.message.c_str());
    if (!r.status_file.empty()) std::fprintf(stdout, "status file: %s\n", r.status_file.c_str());
    return r.exit_code;
  }
  if (command == "install" || command == "disable" || command == "uninstall" || command == "update") {
    vmb::snapshot::EnableResult r = vmb::snapshot::RunLifecycle(command, options);
    std::printf("vmsnapshot: %s\n", r.message.c_str());
    if (command == "install" || command == "update") {
      std::printf("vmsnapshot: %s\n", InstallThawCheck(thaw_check_file, fsfreeze.lock_file).c_str());
    } else if (command == "uninstall" && !thaw_check_file.empty()) {
      (void)::unlink(thaw_check_file.c_str());
    }
    return r.exit_code;
  }
  if (command == "freeze-check") {
    absl::Time start = absl::Now();
    absl::Status frozen = options.freeze->Freeze(absl::Milliseconds(budget_ms));
    if (!frozen.ok()) {
      std::fprintf(stderr, "vmsnapshot: freeze failed (code %d): %s\n", vmb::snapshot::CodeOf(frozen, 121),
                   std::string(frozen.message()).c_str());
      return 1;
    }
    std::string what = options.freeze->name();
    if (auto* fs = dynamic_cast<vmb::snapshot::fsfreeze::FsFreezeProvider*>(options.freeze)) {
      what = fs->frozen_mounts().empty() ? "nothing (no eligible mount)" : absl::StrJoin(fs->frozen_mounts(), " ");
    }
    std::printf("frozen in %lld ms: %s\n", static_cast<long long>(absl::ToInt64Milliseconds(absl::Now() - start)),
                what.c_str());
    std::fflush(stdout);
    absl::SleepFor(absl::Milliseconds(hold_ms));
    absl::Status thawed = options.freeze->Thaw();
    long long window = static_cast<long long>(absl::ToInt64Milliseconds(absl::Now() - start));
    if (!thawed.ok()) {
      std::printf("thaw reported code %d after %lld ms: %s\n", vmb::snapshot::CodeOf(thawed, 121), window,
                  std::string(thawed.message()).c_str());
      return 1;
    }
    std::printf("thawed after %lld ms\n", window);
    return 0;
  }
  if (command == "replay") {
    if (positional.empty()) return Usage("replay needs at least one fixture directory");
    if (endpoint.empty()) return Usage("replay needs --blob-endpoint URL (e.g. http://127.0.0.1:10000/devstoreaccount1)");
    vmb::snapshot::ReplayOptions ro;
    ro.blob_endpoint = endpoint;
    absl::StatusOr<std::string> key = vmb::cli::ReadAccountKey("", account_key_file);
    if (!key.ok()) return Usage(std::string(key.status().message()));
    ro.account_key = *key;
    ro.transport = transport.get();
    ro.work_dir = work_dir.empty() ? absl::StrCat(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp",
                                                  "/vmsnapshot-replay")
                                   : work_dir;
    int failed = 0;
    for (const std::string& fixture : positional) {
      vmb::snapshot::ReplayOutcome o = vmb::snapshot::ReplayFixture(fixture, ro);
      std::fputs(o.report.c_str(), stdout);
      failed += o.passed ? 0 : 1;
    }
    std::printf("%zu fixture(s), %d failed\n", positional.size(), failed);
    return failed == 0 ? 0 : 1;
  }
  return Usage(absl::StrCat("unknown command \"", command, "\""));
}
