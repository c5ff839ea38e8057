#include "offline_seed/agent/endpoints.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/blob/dev_account.h"
#include "common/cli/account_key.h"
#include "common/http/curl_transport.h"
#include "common/status/http_status.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/import_job/arm_client.h"

namespace vmb::offline {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

absl::StatusOr<std::unique_ptr<blob::BlobClient>> ClientFor(const blob::BlobUri& account, const std::string& key_file,
                                                            http::HttpTransport* transport) {
  ASSIGN_OR_RETURN(std::string key, cli::ReadAccountKey(account.account(), key_file));
  ASSIGN_OR_RETURN(auto cred, blob::SharedKeyCredential::Create(account.account(), key));
  return std::make_unique<blob::BlobClient>(transport, cred);
}

}  // namespace

std::string Pick(Flags& opt, const char* flag, const char* env, const std::string& fallback) {
  if (!opt[flag].empty()) return opt[flag];
  std::string e = Env(env);
  return e.empty() ? fallback : e;
}

absl::StatusOr<Endpoints> Connect(Flags& opt, http::HttpTransport* transport) {
  auto pick = [&](const char* flag, const char* env, const std::string& fallback) {
    return Pick(opt, flag, env, fallback);
  };
  Endpoints e;
  if (transport == nullptr) {
    e.owned_transport = http::NewCurlTransport();
    transport = e.owned_transport.get();
  }
  e.transport = transport;
  e.control_plane = pick("control-plane", "VMBACKUP_CONTROL_PLANE", "");
  e.token = pick("token", "VMBACKUP_TOKEN", "");
  std::string blob_endpoint =
      pick("blob-endpoint", "VMBACKUP_BLOB_ENDPOINT", "http://127.0.0.1:10000/devstoreaccount1");
  ASSIGN_OR_RETURN(e.account, blob::BlobUri::ForAccount(blob_endpoint));
  std::string key_file = pick("account-key-file", "VMBACKUP_ACCOUNT_KEY_FILE", "");
  ASSIGN_OR_RETURN(e.storage, ClientFor(e.account, key_file, transport));
  ASSIGN_OR_RETURN(blob::BlobUri vault_account,
                   blob::BlobUri::ForAccount(pick("vault-endpoint", "VMBACKUP_VAULT_ENDPOINT", blob_endpoint)));
  ASSIGN_OR_RETURN(e.vault_client,
                   ClientFor(vault_account, pick("vault-key-file", "VMBACKUP_VAULT_KEY_FILE", key_file), transport));
  e.vault_container = vault_account.WithContainer(opt["vault"].empty() ? "recoveryvault" : opt["vault"]);
  return e;
}

vault::VaultOptions VaultFor(Endpoints& e, const proto::ImportJobRecord& job, const Console& console) {
  vault::VaultOptions vo;
  vo.client = e.vault_client.get();
  vo.container = e.vault_container;
  vo.item = job.itemid();
  vo.progress = ProgressPrinter(console);
  return vo;
}

ie::JobProgress ImportState(Endpoints& e, const proto::ImportJobRecord& job, const std::string& staging,
                            std::string* note) {
  if (e.control_plane.empty()) {
    *note = "(no control plane given: --control-plane / $VMBACKUP_CONTROL_PLANE)";
    return {};
  }
  ie::ArmImportJobClient client(e.transport, e.control_plane, e.token);
  absl::StatusOr<ie::proto::Job> j = client.GetJob({job.subscriptionid(), "offlinebackup", job.jobname()});
  if (!j.ok()) {
    // A 404 before `diskprep s:` ran means the job is not created yet; after it, that Azure deleted it.
    const bool prepared = ::access((staging + "/diskprep").c_str(), F_OK) == 0;
    if (HttpStatusOf(j.status()).value_or(0) != 404) {
      *note = absl::StrCat("(cannot read import job ", job.jobname(), ": ", j.status().message(), ")");
    } else if (prepared) {
      *note = absl::StrCat("(", ie::JobGoneExplanation(job.jobname()), ")");
    } else {
      *note = "(not created yet: `diskprep s:` prepares the drives and creates it)";
    }
    return {};
  }
  auto tag = j->tags().find(kItemTag);
  if (tag == j->tags().end() || tag->second != job.itemid()) {
    // Another server's job of the same name: its drives are not this staging location's data.
    *note = absl::StrCat("(the import job ", job.jobname(),
                         " in Azure was not prepared from this staging location; it "
                         "belongs to another server. This staging location's drives were never imported: stage the "
                         "backup again with a new job name)");
    return {};
  }
  return ie::ProgressOf(*j);
}

absl::Status CheckJobNameFree(Flags& opt, http::HttpTransport* transport, const std::string& subscription,
                              const std::string& name, const std::string& account) {
  const std::string plane = Pick(opt, "control-plane", "VMBACKUP_CONTROL_PLANE", "");
  if (plane.empty()) {
    return absl::InvalidArgumentError(
        "initiate checks that the import job name is free in the subscription: give the management endpoint with "
        "--control-plane URL (https://management.azure.com for Azure) and --token, or $VMBACKUP_CONTROL_PLANE and "
        "$VMBACKUP_TOKEN");
  }
  std::unique_ptr<http::HttpTransport> curl;
  if (transport == nullptr) {
    curl = http::NewCurlTransport();
    transport = curl.get();
  }
  ie::ArmImportJobClient client(transport, plane, Pick(opt, "token", "VMBACKUP_TOKEN", ""));
  absl::StatusOr<ie::proto::Job> j = client.GetJob({subscription, "offlinebackup", name});
  if (j.ok()) {
    return absl::AlreadyExistsError(absl::StrCat("the import job name ", name, " is already used in subscription ",
                                                 subscription, " (that job is ",
                                                 j->properties().state().empty() ? "known" : j->properties().state(),
                                                 "); choose another job name. Nothing was written"));
  }
  if (HttpStatusOf(j.status()).value_or(0) != 404) {
    return absl::UnavailableError(absl::StrCat("cannot check the import job name with the Import/Export API: ",
                                               j.status().message(), ". Nothing was written"));
  }
  // The storage account the drives are imported into must exist (else diskprep would stop after filling them).
  absl::StatusOr<ie::proto::StorageAccount> a = client.GetStorageAccount(subscription, "offlinebackup", account);
  if (HttpStatusOf(a.status()).value_or(0) == 404) {
    return absl::NotFoundError(absl::StrCat("the storage account ", account,
                                            " does not exist in resource group "
                                            "offlinebackup of subscription ",
                                            subscription,
                                            "; create it in the "
                                            "portal (or check the name). Nothing was written"));
  }
  if (!a.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot check the storage account with the management API: ", a.status().message(), ". Nothing was written"));
  }
  return absl::OkStatus();
}

}  // namespace vmb::offline
