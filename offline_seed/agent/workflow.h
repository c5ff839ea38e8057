// seedagent's commands, one function each, behind the command line (main.cc parses flags and dispatches): what
// each prints (results on the console's out, --json as one JSON object; notes and progress on err) and its exit
// status: 0 done (or nothing to do yet), 1 failed, 2 bad usage, 3 done but incomplete (see seedagent --help).
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_WORKFLOW_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_WORKFLOW_H_

#include <string>
#include <vector>

#include "common/http/http_transport.h"
#include "offline_seed/agent/console.h"
#include "offline_seed/agent/endpoints.h"

namespace vmb::offline {

struct AgentRequest {
  std::string command;
  Flags opt;                         // --name value; --full-scan as "1"
  std::vector<std::string> sources;  // every --source, in order
  bool json = false;
};

struct AgentEnv {
  Console console;
  // The Azure endpoints' transport (tests give a fake); null: curl.
  http::HttpTransport* transport = nullptr;
  // The agent's own folder (AgentDir()), where initiate records the staging location whose import job this computer
  // waits for; empty: not recorded.
  std::string agent_dir;
};

// The commands of an existing staging location: status, backup, recovery-points, restore, repair. Usage errors
// (a missing --staging, --recovery-point or --target) come before anything is read or contacted.
int RunStagedCommand(AgentRequest& request, const AgentEnv& env);

// restore-staging: rebuilds the source folders from the staging location (a rehearsal of the restore).
int RunRestoreStaging(AgentRequest& request, const AgentEnv& env);

// initiate: checks its arguments, the publish settings and that the job name is free, then writes the initial
// backup to the staging location.
int RunInitiate(AgentRequest& request, const AgentEnv& env);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_WORKFLOW_H_
