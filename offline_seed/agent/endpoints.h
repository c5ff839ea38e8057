// Where seedagent's outside services are: the import job's storage account, the vault and the Import/Export
// control plane, from flags, else environment variables, else the local defaults (see seedagent --help); and what
// it asks the control plane (the job's state, whether a job name is free).
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_ENDPOINTS_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_ENDPOINTS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "common/blob/blob_uri.h"
#include "common/http/http_transport.h"
#include "offline_seed/agent/console.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/import_job/job_progress.h"
#include "offline_seed/vault/vault.h"

namespace vmb::offline {

// seedagent's flags: "--name value" as opt["name"] (missing flags read as empty).
using Flags = std::map<std::string, std::string>;

struct Endpoints {
  std::unique_ptr<http::HttpTransport> owned_transport;  // curl, unless a transport was given
  http::HttpTransport* transport = nullptr;
  std::unique_ptr<blob::BlobClient> storage, vault_client;
  blob::BlobUri account, vault_container;
  std::string control_plane, token;
};

// A flag's value, else the environment variable's, else `fallback`.
std::string Pick(Flags& opt, const char* flag, const char* env, const std::string& fallback);

// The endpoints and their credentials (account keys from key files, or the storage emulator's published key for
// devstoreaccount1). Requests go through `transport`, or curl when it is null. Errors: a bad endpoint or key file.
absl::StatusOr<Endpoints> Connect(Flags& opt, http::HttpTransport* transport);

// The vault of the protected item, keyed by the id made at initiate, never by the job name (two servers may use one
// name); progress lines on `console`.
vault::VaultOptions VaultFor(Endpoints& e, const proto::ImportJobRecord& job, const Console& console);

// Where the import job stands, read from its drives (ProgressOf): the data is in the storage account once every
// drive finished, while the job may still be Packaging. `summary` "" with a note when it cannot be asked.
ie::JobProgress ImportState(Endpoints& e, const proto::ImportJobRecord& job, const std::string& staging,
                            std::string* note);

// Before anything is written: the job name must be free in the subscription (Azure would hand this server another
// server's job, and its drives, otherwise) and the storage account must exist. kInvalidArgument without a control
// plane, kAlreadyExists, kNotFound, kUnavailable; each message ends "Nothing was written".
absl::Status CheckJobNameFree(Flags& opt, http::HttpTransport* transport, const std::string& subscription,
                              const std::string& name, const std::string& account);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_ENDPOINTS_H_
