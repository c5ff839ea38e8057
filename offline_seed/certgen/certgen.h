// AzureOfflineBackupCertGen for Linux: prepares a server for offline backup (seed 004).
//
//   CreateNewApplication SubscriptionId:<id>
//     creates (or reuses) the directory application AzureOfflineBackup_<Azure user id> (the signed-in user's object
//     id: --user-id, else the token's oid claim, else Graph's GET /me) with a self-signed certificate
//     CB_AzureADCertforOfflineSeeding_<resource id> (key 0600 in the agent's certificate store) and writes
//     OfflineApplicationParams.xml. A usable certificate already in the store (private key present, not expired) is
//     reused; a new key pair is made only when there is none. If the application exists without that certificate,
//     it exports the certificate (.cer, public part only) and returns the manual steps instead (kFailedPrecondition,
//     exit 3); after the upload in the portal, running it again finishes.
//   AddRegistryEntries SubscriptionId:<id> xmlfilepath:<file> storageaccountname:<name>
//     writes OfflineApplicationParams_<storage account>.xml into the agent's scratch folder, and records
//     AzureADAppCertThumbprint_<user id> in the agent's configuration folder (the Linux stand-ins for the
//     Scratch\MicrosoftBackupProvider folder and the CloudBackupProvider registry key). The agent reads that file
//     when it initiates an offline backup to the account (ReadRegisteredApplication; seedagent initiate).
#ifndef VMBACKUP_OFFLINE_SEED_CERTGEN_CERTGEN_H_
#define VMBACKUP_OFFLINE_SEED_CERTGEN_CERTGEN_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http/http_transport.h"
#include "common/time/clock.h"

namespace vmb::offline {

struct CertGenOptions {
  std::string control_plane;  // base URL of the management API (the simulator, or Azure)
  std::string token;          // bearer token (ARM)
  std::string graph_url;      // the directory (Microsoft Graph); empty: the control plane's URL (a simulator)
  std::string graph_token;    // bearer token for Graph; empty: `token`
  std::string user_id;        // the Azure user id the application is named after; empty: from the token or /me
  std::string cert_store = "/var/lib/vmbackup/certs";
  std::string config_dir = "/etc/vmbackup/CloudBackupProvider";
  std::string scratch_dir = "/var/lib/vmbackup/Scratch/MicrosoftBackupProvider";
  std::string output_dir = ".";  // where OfflineApplicationParams.xml (and a .cer for manual upload) go
  http::HttpTransport* transport = nullptr;
  // Dates a new certificate (valid from 5 minutes before now, for two years) and times the directory's retries.
  Clock* clock = &RealClock();
};

// Windows-style "Key:Value" arguments, keys case-insensitive. kInvalidArgument naming the bad argument.
struct OfflineApplicationParams {
  std::string subscription_id;
  std::string application_id;
  std::string thumbprint;        // 40 hex digits
  std::string storage_account;   // empty until AddRegistryEntries
  std::string user_id;           // the Azure user id (<UserId>, else the display name's suffix)
  std::string application_name;  // AzureOfflineBackup_<user id>
};
// Reads OfflineApplicationParams.xml (as CreateNewApplication writes it). kInvalidArgument naming `name` and the
// problem when it is not that file or a field is missing or malformed.
absl::StatusOr<OfflineApplicationParams> ParseOfflineApplicationParams(absl::string_view text, absl::string_view name);

absl::StatusOr<std::map<std::string, std::string>> ParseKeyValueArgs(const std::vector<std::string>& args);

struct CreateResult {
  std::string params_path;
  std::string thumbprint;
  std::string user_id;  // the Azure user id the application is named after
  bool reused = false;  // the certificate was already in the store (no new key pair)
  std::string note;     // which happened: "reused certificate ... from ...", or "made a new certificate: <why>"
};

absl::StatusOr<CreateResult> CreateNewApplication(const CertGenOptions& o, const std::string& subscription_id);

// Returns the path written.
absl::StatusOr<std::string> AddRegistryEntries(const CertGenOptions& o, const std::string& subscription_id,
                                               const std::string& xml_path, const std::string& storage_account);

// The offline application AddRegistryEntries registered for `storage_account`
// (`<scratch_dir>/OfflineApplicationParams_<storage_account>.xml`), as the agent reads it when it initiates an
// offline backup to that account. kNotFound (naming the file and the AddRegistryEntries command to run) when there
// is none; kInvalidArgument when it was made for another subscription or account, or is not that file.
absl::StatusOr<OfflineApplicationParams> ReadRegisteredApplication(const std::string& scratch_dir,
                                                                   const std::string& subscription_id,
                                                                   const std::string& storage_account);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_CERTGEN_CERTGEN_H_
