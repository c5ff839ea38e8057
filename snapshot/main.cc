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

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/cli/account_key.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "snapshot/command_line.h"
#include "snapshot/enable_job.h"
#include "snapshot/error_codes.h"
#include "snapshot/freeze_factory.h"
#include "snapshot/fsfreeze/freeze_record.h"
#include "snapshot/fsfreeze/fsfreeze_provider.h"
#include "snapshot/fsfreeze/holder.h"
#include "snapshot/fsfreeze/syscalls.h"
#include "snapshot/proto/handler.pb.h"
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
  std::string text =
      absl::StrCat("# Installed by the VMSnapshot extension (vmsnapshot install), removed by vmsnapshot uninstall.\n",
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
  std::unique_ptr<vmb::snapshot::fsfreeze::FreezeSyscalls> sys =
      FreezeSyscallsFor(dry_run_log, dry_run_fail, trace_log);
  return vmb::snapshot::fsfreeze::RunHolder(*sys, o, 0, 1);
}

namespace {

using vmb::snapshot::CommandLine;

// `enable`: one backup job; the outcome goes to the status file and is echoed on the terminal.
int EnableCommand(CommandLine& cl) {
  vmb::snapshot::EnableResult r = vmb::snapshot::RunEnable(cl.options);
  const vmb::snapshot::CodeInfo& info = vmb::snapshot::InfoFor(r.code);
  std::fprintf(r.status == "success" ? stdout : stderr, "vmsnapshot: %s %d (%s): %s\n",
               r.status == "success" ? "done," : "error", r.code, info.name, r.message.c_str());
  if (!r.status_file.empty()) std::fprintf(stdout, "status file: %s\n", r.status_file.c_str());
  return r.exit_code;
}

// install, disable, uninstall, update: report success; install and update (re)write the stale-freeze check,
// uninstall removes it.
int LifecycleCommand(CommandLine& cl) {
  vmb::snapshot::EnableResult r = vmb::snapshot::RunLifecycle(cl.command, cl.options);
  std::printf("vmsnapshot: %s\n", r.message.c_str());
  if (cl.command == "install" || cl.command == "update") {
    std::printf("vmsnapshot: %s\n", InstallThawCheck(cl.thaw_check_file, cl.fsfreeze.lock_file).c_str());
  } else if (cl.command == "uninstall" && !cl.thaw_check_file.empty()) {
    (void)::unlink(cl.thaw_check_file.c_str());
  }
  return r.exit_code;
}

// `freeze-check`: freeze, hold --hold-ms, thaw, and say how long each took and how it ended. The hold is a real
// sleep on purpose: it is what an admin asks to measure on a real VM.
int FreezeCheckCommand(CommandLine& cl) {
  vmb::snapshot::FreezeProvider* freeze = cl.options.freeze;
  absl::Time start = absl::Now();
  absl::Status frozen = freeze->Freeze(absl::Milliseconds(cl.budget_ms));
  if (!frozen.ok()) {
    std::fprintf(stderr, "vmsnapshot: freeze failed (code %d): %s\n", vmb::snapshot::CodeOf(frozen, 121),
                 std::string(frozen.message()).c_str());
    return 1;
  }
  std::string what = freeze->name();
  if (auto* fs = dynamic_cast<vmb::snapshot::fsfreeze::FsFreezeProvider*>(freeze)) {
    what = fs->frozen_mounts().empty() ? "nothing (no eligible mount)" : absl::StrJoin(fs->frozen_mounts(), " ");
  }
  std::printf("frozen in %lld ms: %s\n", static_cast<long long>(absl::ToInt64Milliseconds(absl::Now() - start)),
              what.c_str());
  std::fflush(stdout);
  absl::SleepFor(absl::Milliseconds(cl.hold_ms));
  absl::Status thawed = freeze->Thaw();
  long long window = static_cast<long long>(absl::ToInt64Milliseconds(absl::Now() - start));
  if (!thawed.ok()) {
    std::printf("thaw reported code %d after %lld ms: %s\n", vmb::snapshot::CodeOf(thawed, 121), window,
                std::string(thawed.message()).c_str());
    return 1;
  }
  std::printf("thawed after %lld ms\n", window);
  return 0;
}

// `replay FIXTURE...`: each captured fixture against --blob-endpoint; exit 0 when every one passes.
int ReplayCommand(CommandLine& cl, vmb::http::HttpTransport* transport) {
  if (cl.positional.empty()) return Usage("replay needs at least one fixture directory");
  if (cl.endpoint.empty()) {
    return Usage("replay needs --blob-endpoint URL (e.g. http://127.0.0.1:10000/devstoreaccount1)");
  }
  vmb::snapshot::ReplayOptions ro;
  ro.blob_endpoint = cl.endpoint;
  absl::StatusOr<std::string> key = vmb::cli::ReadAccountKey("", cl.account_key_file);
  if (!key.ok()) return Usage(std::string(key.status().message()));
  ro.account_key = *key;
  ro.transport = transport;
  ro.work_dir = cl.work_dir.empty()
                    ? absl::StrCat(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", "/vmsnapshot-replay")
                    : cl.work_dir;
  int failed = 0;
  for (const std::string& fixture : cl.positional) {
    vmb::snapshot::ReplayOutcome o = vmb::snapshot::ReplayFixture(fixture, ro);
    std::fputs(o.report.c_str(), stdout);
    failed += o.passed ? 0 : 1;
  }
  std::printf("%zu fixture(s), %d failed\n", cl.positional.size(), failed);
  return failed == 0 ? 0 : 1;
}

// The handler commands: each first thaws what a backup whose processes all died may have left frozen.
bool IsHandlerCommand(const std::string& command) {
  return command == "enable" || command == "install" || command == "disable" || command == "uninstall" ||
         command == "update" || command == "thaw-stale";
}

// Runs `cl.command` with its transport and freeze provider (a bad provider name is a usage error for every command).
int Dispatch(CommandLine& cl) {
  if (IsHandlerCommand(cl.command)) SweepStaleFreeze(cl.fsfreeze);
  if (cl.command == "thaw-stale") return 0;
  auto transport = vmb::http::NewCurlTransport();
  cl.options.transport = transport.get();
  absl::StatusOr<std::unique_ptr<vmb::snapshot::FreezeProvider>> freeze =
      vmb::snapshot::MakeFreezeProvider(cl.freeze_name, cl.fsfreeze, cl.script_config, cl.vss_socket);
  if (!freeze.ok()) return Usage(std::string(freeze.status().message()));
  cl.options.freeze = freeze->get();
  if (cl.command == "enable") return EnableCommand(cl);
  if (cl.command == "install" || cl.command == "disable" || cl.command == "uninstall" || cl.command == "update") {
    return LifecycleCommand(cl);
  }
  if (cl.command == "freeze-check") return FreezeCheckCommand(cl);
  if (cl.command == "replay") return ReplayCommand(cl, transport.get());
  return Usage(absl::StrCat("unknown command \"", cl.command, "\""));
}

}  // namespace

int main(int argc, char** argv) {
  // A write to a freeze holder that has already thawed and exited (the watchdog) must fail with EPIPE and be
  // reported (code 122), not kill the extension before it writes its status.
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage("no command given");
  if (args[0] == "freeze-holder") return FreezeHolderMain(args);
  // The config file first; the command line then overrides it.
  absl::StatusOr<vmb::snapshot::proto::ExtensionConfig> config = vmb::snapshot::LoadExtensionConfig(args);
  if (!config.ok()) return Usage(std::string(config.status().message()));
  absl::StatusOr<CommandLine> cl = vmb::snapshot::ParseCommandLine(
      args, vmb::snapshot::FromConfig(*config, std::getenv("AZURE_GUEST_AGENT_EXTENSION_PATH")));
  if (!cl.ok()) return Usage(std::string(cl.status().message()));
  if (cl->show_help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cl->show_version) {
    std::printf("%s %s\n", vmb::snapshot::kExtensionName, vmb::snapshot::kExtensionVersion);
    return 0;
  }
  return Dispatch(*cl);
}
