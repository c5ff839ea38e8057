// The enable flow's test rig: a handler folder in a per-test directory, a self-signed VM certificate, an in-memory
// blob service with three page-blob disks and a logs container, a freeze provider that counts, and helpers to write
// <N>.settings as the backup service sends it and to read what the agent and the host receive.
#ifndef VMBACKUP_SNAPSHOT_TESTING_ENABLE_JOB_FIXTURE_H_
#define VMBACKUP_SNAPSHOT_TESTING_ENABLE_JOB_FIXTURE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/blob/blob_client.h"
#include "common/blob/testing/fake_blob_service.h"
#include "common/crypto/certificate.h"
#include "common/crypto/cms.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "snapshot/enable_job.h"
#include "snapshot/freeze.h"
#include "snapshot/proto/handler.pb.h"
#include "snapshot/settings.h"

namespace vmb::snapshot {

inline constexpr char kAccount[] = "http://127.0.0.1:1/devstoreaccount1";
inline constexpr char kSas[] = "sv=2021-08-06&se=2099-01-01T00%3A00%3A00Z&sr=b&sp=racw&sig=SECRETSIG%3D";

class RecordingFreeze : public FreezeProvider {
 public:
  std::string name() const override { return "test"; }
  Consistency consistency() const override { return kApplicationConsistent; }
  absl::Status Freeze(absl::Duration) override {
    ++freezes;
    if (on_freeze) on_freeze();
    return freeze_result;
  }
  absl::Status Thaw() override {
    ++thaws;
    if (on_thaw) on_thaw();
    return absl::OkStatus();
  }
  int freezes = 0, thaws = 0;
  std::function<void()> on_thaw;
  absl::Status freeze_result;
  std::function<void()> on_freeze;
};

class EnableJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    for (const char* sub : {"/config", "/status", "/log", "/certs"}) ASSERT_TRUE(file::MakeDirs(dir_ + sub).ok());
    crypto::SelfSignedOptions so{"test vm", absl::Now() - absl::Hours(1)};
    cert_ = std::make_unique<crypto::CertificateAndKey>(*crypto::GenerateSelfSigned(so));
    thumb_ = *crypto::WriteToCertDir(dir_ + "/certs", *cert_);
    // As the Linux guest agent writes it (waagent create_handler_env: "version" is the number 1.0, plus events
    // folders the extension does not know).
    std::string env = absl::StrCat(
        R"([{"name": "Microsoft.Azure.RecoveryServices.VMSnapshotLinux", "version": 1.0, "handlerEnvironment": {)",
        R"("logFolder": ")", dir_, R"(/log", "configFolder": ")", dir_, R"(/config", "statusFolder": ")", dir_,
        R"(/status", "heartbeatFile": "x", "eventsFolder": ")", dir_, R"(/events", "eventsFolder_preview": ")", dir_,
        R"(/events"}}])");
    ASSERT_TRUE(file::WriteFileAtomic(dir_ + "/HandlerEnvironment.json", env, 0644).ok());
    blob::BlobClient admin(&fake_, *blob::SharedKeyCredential::Create("devstoreaccount1", "a2V5"));
    account_ = *blob::BlobUri::ForAccount(kAccount);
    ASSERT_TRUE(admin.CreateContainer(account_.WithContainer("vhds")).ok());
    ASSERT_TRUE(admin.CreateContainer(account_.WithContainer("logs")).ok());
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(
          admin.CreatePageBlob(account_.WithContainer("vhds").WithBlob(absl::StrCat("d", i, ".vhd")), 1 << 20).ok());
    }
    options_.handler_environment = dir_ + "/HandlerEnvironment.json";
    options_.cert_dir = dir_ + "/certs";
    options_.transport = &fake_;
    options_.freeze = &freeze_;
  }

  std::string Uri(const std::string& container, const std::string& blob, const std::string& sas = kSas) {
    return absl::StrCat(kAccount, "/", container, "/", blob, "?", sas);
  }

  void WriteSettings(int seq, const std::vector<std::string>& disks, const std::string& task = "task-1",
                     const std::string& command = "snapshot", int64_t ticks = 0, const std::string& status_uri = "") {
    proto::ObjectStr object;
    for (const auto& d : disks) object.add_blobsasuri(d);
    proto::ProtectedSettings prot;
    prot.set_objectstr(crypto::Base64Encode(json::ToJson(object)));
    prot.set_statusbloburi(status_uri.empty() ? Uri("logs", "vm.Status.txt") : status_uri);
    if (with_logs_blob_) prot.set_logsbloburi(Uri("logs", "vm.Logs.txt"));
    proto::SettingsFile s;
    auto* hs = s.add_runtimesettings()->mutable_handlersettings();
    hs->set_protectedsettingscertthumbprint(thumb_);
    hs->set_protectedsettings(crypto::Base64Encode(
        *crypto::CmsEncrypt(json::ToJson(prot), cert_->certificate, crypto::CmsCipher::kDesEde3Cbc)));
    auto* pub = hs->mutable_publicsettings();
    pub->set_locale("de-de");
    pub->set_taskid(task);
    pub->set_commandtoexecute(command);
    pub->set_commandstarttimeutcticks(absl::StrCat(ticks ? ticks : TimeToTicks(absl::Now())));
    pub->set_objectstr(json::ToJson([] {
      proto::ObjectStr o;
      auto* kv = o.add_backupmetadata();
      kv->set_key("backupJob");
      kv->set_value("nightly");
      return o;
    }()));
    ASSERT_TRUE(file::WriteFileAtomic(absl::StrCat(dir_, "/config/", seq, ".settings"), json::ToJson(s), 0600).ok());
  }

  // Rewrites the public settings of <seq>.settings (after WriteSettings) with `edit`.
  void EditPublicSettings(int seq, const std::function<void(proto::PublicSettings&)>& edit) {
    std::string path = absl::StrCat(dir_, "/config/", seq, ".settings");
    proto::SettingsFile s;
    ASSERT_TRUE(json::Parse(file::ReadFile(path).value_or(""), &s, "settings").ok());
    edit(*s.mutable_runtimesettings(0)->mutable_handlersettings()->mutable_publicsettings());
    ASSERT_TRUE(file::WriteFileAtomic(path, json::ToJson(s), 0600).ok());
  }

  std::vector<std::string> Disks(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(Uri("vhds", absl::StrCat("d", i, ".vhd")));
    return out;
  }

  int SnapshotCalls() {
    int n = 0;
    for (const auto& r : fake_.requests()) n += absl::StrContains(r.url, "comp=snapshot");
    return n;
  }

  // The status file as the guest agent reads it (its top level).
  proto::StatusDocument StatusFile(int seq) {
    proto::StatusList list;
    absl::StatusOr<std::string> text = file::ReadFile(absl::StrCat(dir_, "/status/", seq, ".status"));
    EXPECT_TRUE(text.ok()) << text.status();
    EXPECT_TRUE(json::ParseArray(text.value_or("[]"), &list, "status").ok());
    return list.items_size() ? list.items(0) : proto::StatusDocument();
  }

  // What the host receives: the document in the status file's substatus[0].name.
  proto::StatusDocument HostStatus(int seq) {
    proto::StatusDocument file = StatusFile(seq);
    EXPECT_EQ(file.status().substatus_size(), 1);
    proto::StatusList list;
    if (file.status().substatus_size() == 0) return proto::StatusDocument();
    EXPECT_EQ(file.status().substatus(0).status(), "success");
    EXPECT_EQ(file.status().substatus(0).code(), "0");
    EXPECT_TRUE(json::ParseArray(file.status().substatus(0).name(), &list, "substatus").ok());
    return list.items_size() ? list.items(0) : proto::StatusDocument();
  }

  std::string Blob(const std::string& container, const std::string& name) {
    blob::BlobClient c(&fake_, *blob::SharedKeyCredential::Create("devstoreaccount1", "a2V5"));
    return c.GetBlob(account_.WithContainer(container).WithBlob(name)).value_or("<missing>");
  }

  blob::testing::FakeBlobService fake_;
  RecordingFreeze freeze_;
  EnableOptions options_;
  std::string dir_, thumb_;
  bool with_logs_blob_ = true;  // WriteSettings puts a logsBlobUri in the protected settings
  std::unique_ptr<crypto::CertificateAndKey> cert_;
  blob::BlobUri account_;
};

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_TESTING_ENABLE_JOB_FIXTURE_H_
