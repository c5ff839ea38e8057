// seedagent: the backup agent's side of offline seeding (seed 004). This file is the command line: the usage text,
// flag parsing and dispatch; the commands are in workflow.h.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "offline_seed/agent/staging.h"
#include "offline_seed/agent/workflow.h"

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

}  // namespace

int main(int argc, char** argv) {
  vmb::offline::AgentRequest request;
  vmb::offline::AgentEnv env;
  env.console.tty = ::isatty(2);
  env.agent_dir = vmb::offline::AgentDir();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--json") {
      request.json = true;
    } else if (a == "--full-scan") {
      request.opt["full-scan"] = "1";
    } else if (a == "--source" && i + 1 < argc) {
      request.sources.push_back(argv[++i]);
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      request.opt[a.substr(2)] = argv[++i];
    } else if (request.command.empty()) {
      request.command = a;
    } else {
      return vmb::offline::Usage(env.console, "unexpected argument " + a);
    }
  }
  const std::string& command = request.command;
  if (command == "status" || command == "backup" || command == "recovery-points" || command == "restore" ||
      command == "repair") {
    return vmb::offline::RunStagedCommand(request, env);
  }
  if (command == "restore-staging") return vmb::offline::RunRestoreStaging(request, env);
  if (command == "initiate") return vmb::offline::RunInitiate(request, env);
  return vmb::offline::Usage(env.console, command.empty() ? "no command given" : "unknown command " + command);
}
