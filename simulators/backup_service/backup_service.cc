#include "simulators/backup_service/backup_service.h"

#include <dirent.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/blob/blob_client.h"
#include "common/blob/dev_account.h"
#include "common/blob/shared_key.h"
#include "common/crypto/certificate.h"
#include "common/crypto/cms.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"
#include "simulators/backup_service/wire.pb.h"

namespace vmb::sim {
namespace {

struct Env {
  blob::BlobUri account;
  blob::SharedKeyCredential cred;
};

absl::StatusOr<Env> MakeEnv(const BackupJobSpec& spec) {
  ASSIGN_OR_RETURN(blob::BlobUri account, blob::BlobUri::ForAccount(spec.blob_endpoint));
  ASSIGN_OR_RETURN(blob::SharedKeyCredential cred,
                   blob::SharedKeyCredential::Create(
                       account.account(), spec.account_key.empty() ? blob::kDevAccountKey : spec.account_key));
  return Env{account, cred};
}

absl::StatusOr<std::string> Sas(const Env& env, const std::string& container, const std::string& blob,
                                const std::string& perms) {
  blob::SasOptions o;
  o.container = container;
  o.blob = blob;
  o.permissions = perms;
  o.start = absl::Now() - absl::Minutes(5);
  o.expiry = absl::Now() + absl::Hours(3);
  ASSIGN_OR_RETURN(blob::SasToken t, blob::MakeServiceSas(env.cred, o));
  return env.account.WithContainer(container).WithBlob(blob).WithSas(t.query).ToString();
}

// .NET ticks (100 ns since 0001-01-01), as the service stamps commandStartTimeUTCTicks.
int64_t NowTicks() { return absl::ToUnixNanos(absl::Now()) / 100 + 621355968000000000LL; }

// The next sequence number: one past the highest <N>.settings the agent holds.
int NextSequenceNumber(const std::string& config_dir) {
  int next = 0;
  if (DIR* d = ::opendir(config_dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      absl::string_view n = e->d_name;
      int seq = 0;
      if (absl::ConsumeSuffix(&n, ".settings") && absl::SimpleAtoi(n, &seq) && seq >= next) next = seq + 1;
    }
    ::closedir(d);
  }
  return next;
}

std::string VmName(const BackupJobSpec& spec) {
  std::string name = spec.vm_dir.substr(spec.vm_dir.find_last_of('/') + 1);
  std::string out;
  for (char c : name) out.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) ? absl::ascii_tolower(c) : '-');
  return out.empty() ? "vm" : out.substr(0, 40);
}

}  // namespace

absl::StatusOr<PreparedJob> PrepareBackupJob(const BackupJobSpec& spec) {
  ASSIGN_OR_RETURN(Env env, MakeEnv(spec));
  blob::BlobClient client(spec.transport, env.cred);
  PreparedJob job;
  job.handler_environment = spec.vm_dir + "/HandlerEnvironment.json";
  job.cert_dir = spec.vm_dir + "/certs";
  for (const char* sub : {"/config", "/status", "/log"}) RETURN_IF_ERROR(file::MakeDirs(spec.vm_dir + sub, 0755));

  // The VM's certificate, as the fabric provisions it (reused across jobs).
  std::string thumb;
  if (DIR* d = ::opendir(job.cert_dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      absl::string_view n = e->d_name;
      if (absl::ConsumeSuffix(&n, ".crt")) thumb = std::string(n);
    }
    ::closedir(d);
  }
  if (thumb.empty()) {
    crypto::SelfSignedOptions o;
    o.common_name = "Windows Azure CRP Certificate Generator";
    o.not_before = absl::Now() - absl::Hours(1);
    ASSIGN_OR_RETURN(crypto::CertificateAndKey pair, crypto::GenerateSelfSigned(o));
    ASSIGN_OR_RETURN(thumb, crypto::WriteToCertDir(job.cert_dir, pair));
  }
  ASSIGN_OR_RETURN(crypto::CertificateAndKey identity, crypto::LoadFromCertDir(job.cert_dir, thumb));

  std::string vm = VmName(spec);
  std::string disks_container = absl::StrCat(vm, "-vhds");
  std::string logs_container = absl::StrCat("bcdrextensionlogs-", vm);
  RETURN_IF_ERROR(client.CreateContainer(env.account.WithContainer(disks_container)));
  RETURN_IF_ERROR(client.CreateContainer(env.account.WithContainer(logs_container)));

  wire::DiskList object;
  for (int i = 0; i < spec.disks; ++i) {
    std::string name = absl::StrCat(vm, "-disk", i, ".vhd");
    blob::BlobUri disk = env.account.WithContainer(disks_container).WithBlob(name);
    if (!client.GetProperties(disk).ok()) {
      RETURN_IF_ERROR(client.CreatePageBlob(disk, spec.disk_size));
      // Some data at the start of each disk, so snapshots have content to keep.
      RETURN_IF_ERROR(client.PutPages(disk, 0, crypto::SecureRandom().Bytes(64 * 1024)));
    }
    ASSIGN_OR_RETURN(std::string uri, Sas(env, disks_container, name, "rw"));
    object.add_blobsasuri(uri);
  }

  job.seq = NextSequenceNumber(spec.vm_dir + "/config");
  job.task_id = absl::StrCat(crypto::Base16Encode(crypto::SecureRandom().Bytes(8)), "_", job.seq);

  wire::ProtectedPart prot;
  prot.set_objectstr(crypto::Base64Encode(json::ToJson(object)));
  ASSIGN_OR_RETURN(std::string status_uri, Sas(env, logs_container, absl::StrCat(vm, ".v2.Status.txt"), "rw"));
  ASSIGN_OR_RETURN(std::string logs_uri, Sas(env, logs_container, absl::StrCat(vm, ".v2.Logs.txt"), "rw"));
  prot.set_statusbloburi(status_uri);
  prot.set_logsbloburi(logs_uri);
  job.status_blob = blob::BlobUri::Parse(status_uri)->Redacted();

  wire::Settings settings;
  auto* hs = settings.add_runtimesettings()->mutable_handlersettings();
  hs->set_protectedsettingscertthumbprint(thumb);
  ASSIGN_OR_RETURN(std::string der,
                   crypto::CmsEncrypt(json::ToJson(prot), identity.certificate, crypto::CmsCipher::kAes256Cbc));
  hs->set_protectedsettings(crypto::Base64Encode(der));
  auto* pub = hs->mutable_publicsettings();
  pub->set_locale(spec.locale);
  pub->set_taskid(job.task_id);
  pub->set_commandtoexecute("snapshot");
  pub->set_commandstarttimeutcticks(absl::StrCat(NowTicks()));
  pub->set_vmtype("microsoft.compute/virtualmachines");
  RETURN_IF_ERROR(
      file::WriteFileAtomic(absl::StrCat(spec.vm_dir, "/config/", job.seq, ".settings"), json::ToJson(settings), 0600));
  // As the Linux guest agent writes it (waagent create_handler_env: json.dumps, "version" the number 1.0).
  std::string env_json = absl::StrCat(
      R"([{"name": "Microsoft.Azure.RecoveryServices.VMSnapshotLinux", "version": 1.0, "handlerEnvironment": {)",
      R"("logFolder": ")", spec.vm_dir, R"(/log", "configFolder": ")", spec.vm_dir, R"(/config", "statusFolder": ")",
      spec.vm_dir, R"(/status", "heartbeatFile": ")", spec.vm_dir, R"(/heartbeat.log", "eventsFolder": ")", spec.vm_dir,
      R"(/events", "eventsFolder_preview": ")", spec.vm_dir, R"(/events"}}])");
  RETURN_IF_ERROR(file::WriteFileAtomic(job.handler_environment, env_json, 0644));
  return job;
}

absl::StatusOr<RecoveryPoint> CollectBackupJob(const BackupJobSpec& spec) {
  ASSIGN_OR_RETURN(Env env, MakeEnv(spec));
  blob::BlobClient client(spec.transport, env.cred);
  std::string vm = VmName(spec);
  blob::BlobUri status_blob =
      env.account.WithContainer(absl::StrCat("bcdrextensionlogs-", vm)).WithBlob(absl::StrCat(vm, ".v2.Status.txt"));
  ASSIGN_OR_RETURN(std::string text, client.GetBlob(status_blob));
  wire::ReportedStatusList list;
  RETURN_IF_ERROR(json::ParseArray(text, &list, "status blob"));
  if (list.items_size() != 1) {
    return absl::DataLossError(absl::StrCat("the status blob holds ", list.items_size(), " statuses, not one"));
  }
  const auto& st = list.items(0).status();
  RecoveryPoint rp;
  rp.status = st.status();
  rp.code = st.code();
  rp.message = st.formattedmessage().message();
  for (const auto& info : st.snapshotinfo()) {
    if (!info.issuccessful()) continue;
    ASSIGN_OR_RETURN(blob::BlobUri snap, blob::BlobUri::Parse(info.snapshoturi()));
    absl::StatusOr<blob::BlobProperties> props = client.GetProperties(snap);
    if (!props.ok()) {
      return absl::DataLossError(absl::StrCat("status names snapshot ", info.snapshoturi(),
                                              " but it cannot be read: ", props.status().message()));
    }
    rp.snapshot_uris.push_back(info.snapshoturi());
  }
  return rp;
}

}  // namespace vmb::sim
