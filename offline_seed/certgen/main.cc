// certgen (AzureOfflineBackupCertGen): see certgen.h.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/curl_transport.h"
#include "offline_seed/certgen/certgen.h"
#include "offline_seed/import_job/directory_client.h"

namespace {

constexpr char kUsage[] = R"(usage:
  certgen CreateNewApplication SubscriptionId:<id>
  certgen AddRegistryEntries SubscriptionId:<id> xmlfilepath:<file> storageaccountname:<name>
(keys are case-insensitive, as on Windows)

Options:
  --control-plane URL   management API base URL (default: $VMBACKUP_CONTROL_PLANE)
  --token TOKEN         bearer token (default: $VMBACKUP_TOKEN)
  --graph-url URL       the directory, Microsoft Graph (default: $VMBACKUP_GRAPH_URL, else
                        https://graph.microsoft.com when --control-plane is https://management.azure.com, else
                        the --control-plane URL: the simulator serves both)
  --graph-token TOKEN   bearer token for Graph (default: $VMBACKUP_GRAPH_TOKEN, else --token)
  --user-id ID          the Azure user id (object id) the application is named after (default:
                        $VMBACKUP_USER_ID, else the token's oid claim, else Graph's GET /me)
  --cert-store DIR      the agent's certificate store (default: /var/lib/vmbackup/certs)
  --config-dir DIR      stands in for HKLM\...\Windows Azure Backup\Config\CloudBackupProvider
                        (default: /etc/vmbackup/CloudBackupProvider)
  --scratch-dir DIR     stands in for ...\Scratch\MicrosoftBackupProvider
                        (default: /var/lib/vmbackup/Scratch/MicrosoftBackupProvider)
  --output-dir DIR      where OfflineApplicationParams.xml is written (default: .)
Exit status: 0 done, 1 error, 2 bad usage, 3 manual steps needed (printed).
)";

int Usage(const std::string& p) {
  std::fprintf(stderr, "certgen: %s\n%s", p.c_str(), kUsage);
  return 2;
}

std::string Env(const char* name) { return std::getenv(name) ? std::getenv(name) : ""; }

}  // namespace

int main(int argc, char** argv) {
  vmb::offline::CertGenOptions o;
  o.control_plane = Env("VMBACKUP_CONTROL_PLANE");
  o.token = Env("VMBACKUP_TOKEN");
  o.graph_url = Env("VMBACKUP_GRAPH_URL");
  o.graph_token = Env("VMBACKUP_GRAPH_TOKEN");
  o.user_id = Env("VMBACKUP_USER_ID");
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h" || a == "/?") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (absl::StartsWith(a, "--")) {
      if (i + 1 >= argc) return Usage(absl::StrCat(a, " needs a value"));
      std::string v = argv[++i];
      if (a == "--control-plane")
        o.control_plane = v;
      else if (a == "--token")
        o.token = v;
      else if (a == "--graph-url")
        o.graph_url = v;
      else if (a == "--graph-token")
        o.graph_token = v;
      else if (a == "--user-id")
        o.user_id = v;
      else if (a == "--cert-store")
        o.cert_store = v;
      else if (a == "--config-dir")
        o.config_dir = v;
      else if (a == "--scratch-dir")
        o.scratch_dir = v;
      else if (a == "--output-dir")
        o.output_dir = v;
      else
        return Usage(absl::StrCat("unknown option ", a));
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) return Usage("no command given");
  std::string command = absl::AsciiStrToLower(words[0]);
  absl::StatusOr<std::map<std::string, std::string>> kv =
      vmb::offline::ParseKeyValueArgs(std::vector<std::string>(words.begin() + 1, words.end()));
  if (!kv.ok()) return Usage(std::string(kv.status().message()));
  auto need = [&](const char* key) -> std::string {
    auto it = kv->find(key);
    return it == kv->end() ? "" : it->second;
  };
  auto transport = vmb::http::NewCurlTransport();
  o.transport = transport.get();
  if (command == "createnewapplication") {
    if (need("subscriptionid").empty()) return Usage("CreateNewApplication needs SubscriptionId:<id>");
    if (o.control_plane.empty()) return Usage("no management endpoint: pass --control-plane URL");
    if (o.graph_url.empty() && absl::StartsWith(o.control_plane, "https://management.azure.com")) {
      o.graph_url = vmb::ie::kGraphUrl;
    }
    auto r = vmb::offline::CreateNewApplication(o, need("subscriptionid"));
    if (!r.ok()) {
      std::fprintf(stderr, "certgen: %s\n", std::string(r.status().message()).c_str());
      return r.status().code() == absl::StatusCode::kFailedPrecondition ? 3 : 1;  // 3: the manual steps
    }
    std::printf("application AzureOfflineBackup_%s, certificate %s: %s\nwrote %s\n", r->user_id.c_str(),
                r->thumbprint.c_str(), r->note.c_str(), r->params_path.c_str());
    return 0;
  }
  if (command == "addregistryentries") {
    if (need("subscriptionid").empty() || need("xmlfilepath").empty() || need("storageaccountname").empty()) {
      return Usage("AddRegistryEntries needs SubscriptionId:, xmlfilepath: and storageaccountname:");
    }
    auto r =
        vmb::offline::AddRegistryEntries(o, need("subscriptionid"), need("xmlfilepath"), need("storageaccountname"));
    if (!r.ok()) {
      std::fprintf(stderr, "certgen: %s\n", std::string(r.status().message()).c_str());
      return 1;
    }
    std::printf("wrote %s\n", r->c_str());
    return 0;
  }
  return Usage(absl::StrCat("unknown command \"", words[0], "\""));
}
