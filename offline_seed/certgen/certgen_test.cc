// certgen against the control plane simulator over real HTTP, and its binary's argument handling.
#include "offline_seed/certgen/certgen.h"

#include <dirent.h>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/crypto/certificate.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "offline_seed/certgen/user_id.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/import_job/directory_client.h"
#include "simulators/import_export/portal.h"
#include "simulators/import_export/testing/control_plane_fixture.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

class CertGenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = vmb::testing::PerTestDir();
    absl::StatusOr<std::unique_ptr<ie::testing::ControlPlaneFixture>> plane =
        ie::testing::ControlPlaneFixture::Start(dir_ + "/plane");
    ASSERT_TRUE(plane.ok()) << plane.status();
    plane_ = std::move(*plane);
    o_.control_plane = plane_->url();
    o_.token = plane_->token();
    o_.user_id = "8f3a2c";
    o_.cert_store = dir_ + "/certs";
    o_.config_dir = dir_ + "/config";
    o_.scratch_dir = dir_ + "/scratch";
    o_.output_dir = dir_;
    o_.transport = plane_->transport();
    o_.clock = &clock_;
  }
  std::string dir_;
  std::unique_ptr<ie::testing::ControlPlaneFixture> plane_;
  FakeClock clock_;
  CertGenOptions o_;
};

TEST_F(CertGenTest, CreateThenReuseThenRegister) {
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->reused);
  std::string xml = *file::ReadFile(r->params_path);
  EXPECT_THAT(xml, HasSubstr("<SubscriptionId>sub-123</SubscriptionId>"));
  EXPECT_THAT(xml, HasSubstr("<ApplicationDisplayName>AzureOfflineBackup_8f3a2c</ApplicationDisplayName>"));
  EXPECT_THAT(xml, HasSubstr("CN=CB_AzureADCertforOfflineSeeding_"));
  struct stat st;
  ASSERT_EQ(::stat((o_.cert_store + "/" + r->thumbprint + ".prv").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The directory holds the public certificate under the application.
  ie::proto::Application app = *plane_->Directory().FindApplication("AzureOfflineBackup_8f3a2c");
  ASSERT_EQ(app.keycredentials_size(), 1);
  EXPECT_EQ(app.keycredentials(0).customkeyidentifier(), r->thumbprint);
  // Dated by the injected clock: valid from 5 minutes before its now, for two years.
  EXPECT_EQ(app.keycredentials(0).enddatetime(),
            absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", clock_.Now() - absl::Minutes(5) + absl::Hours(24 * 365 * 2),
                             absl::UTCTimeZone()));

  absl::StatusOr<CreateResult> again = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->thumbprint, r->thumbprint);

  absl::StatusOr<std::string> reg = AddRegistryEntries(o_, "SUB-123", r->params_path, "seedacct");
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ(*reg, o_.scratch_dir + "/OfflineApplicationParams_seedacct.xml");
  EXPECT_THAT(*file::ReadFile(*reg), HasSubstr("<StorageAccountName>seedacct</StorageAccountName>"));
  EXPECT_EQ(*file::ReadFile(o_.config_dir + "/AzureADAppCertThumbprint_8f3a2c"), r->thumbprint + "\n");
  EXPECT_THAT(AddRegistryEntries(o_, "other-sub", r->params_path, "seedacct"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("made for subscription sub-123")));
}

TEST_F(CertGenTest, ExistingApplicationWithOtherCredentialsGetsManualSteps) {
  ie::DirectoryClient client = plane_->Directory();
  ie::proto::Application other;
  other.set_displayname("AzureOfflineBackup_8f3a2c");
  other.add_keycredentials()->set_customkeyidentifier("0123456789ABCDEF0123456789ABCDEF01234567");
  ASSERT_TRUE(client.CreateApplication(other).ok());
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Upload certificate")));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("AzureADAppCertThumbprint_8f3a2c"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(".cer"));
}

// The certificates (.crt) in a store.
int CertificatesIn(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  while (dirent* e = ::readdir(d)) n += absl::EndsWith(e->d_name, ".crt");
  ::closedir(d);
  return n;
}

// A JWT as Entra ID issues them (header.payload.signature, base64url without padding); the signature is not checked.
std::string Jwt(const std::string& payload_json) {
  std::string p = crypto::Base64Encode(payload_json);
  while (!p.empty() && p.back() == '=') p.pop_back();
  for (char& c : p) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return "eyJhbGciOiJSUzI1NiJ9." + p + ".c2lnbmF0dXJl";
}

TEST_F(CertGenTest, ThreeRunsWhileTheApplicationExistsMakeOneCertificate) {
  ie::DirectoryClient client = plane_->Directory();
  ie::proto::Application other;
  other.set_displayname("AzureOfflineBackup_8f3a2c");
  other.add_keycredentials()->set_customkeyidentifier("0123456789ABCDEF0123456789ABCDEF01234567");
  ASSERT_TRUE(client.CreateApplication(other).ok());
  std::string first;
  for (int run = 0; run < 3; ++run) {
    absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Upload certificate")));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("do not delete it"));
    if (run == 0) first = std::string(r.status().message());
    EXPECT_EQ(std::string(r.status().message()), first) << "run " << run << " named another certificate";
  }
  EXPECT_EQ(CertificatesIn(o_.cert_store), 1);
}

TEST_F(CertGenTest, UnusableCertificatesAreReplacedAndSaySo) {
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->note, HasSubstr("made a new certificate: no offline-seeding certificate in"));
  absl::StatusOr<CreateResult> again = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(again->note, HasSubstr("reused certificate " + r->thumbprint));
  // Its private key is gone: a new pair, and the reason.
  ASSERT_EQ(::unlink((o_.cert_store + "/" + r->thumbprint + ".prv").c_str()), 0);
  ie::DirectoryClient client = plane_->Directory();
  ASSERT_TRUE(client.DeleteApplication(client.FindApplication("AzureOfflineBackup_8f3a2c")->id()).ok());
  absl::StatusOr<CreateResult> no_key = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(no_key.ok()) << no_key.status();
  EXPECT_NE(no_key->thumbprint, r->thumbprint);
  EXPECT_THAT(no_key->note, HasSubstr(r->thumbprint + ": its private key is missing"));
  // Two years later it has expired: a new pair again.
  clock_.Advance(absl::Hours(24 * 365 * 2));
  ASSERT_TRUE(client.DeleteApplication(client.FindApplication("AzureOfflineBackup_8f3a2c")->id()).ok());
  absl::StatusOr<CreateResult> expired = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_NE(expired->thumbprint, no_key->thumbprint);
  EXPECT_THAT(expired->note, HasSubstr(no_key->thumbprint + ": expired on"));
}

TEST_F(CertGenTest, NamedAfterTheSignedInUserNotTheLoginName) {
  o_.user_id.clear();  // the simulator's token is opaque: certgen asks the directory (GET /me)
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->user_id, ie::kSimulatedUserObjectId);
  EXPECT_TRUE(
      plane_->Directory().FindApplication(absl::StrCat("AzureOfflineBackup_", ie::kSimulatedUserObjectId)).ok());
  EXPECT_THAT(*file::ReadFile(r->params_path), HasSubstr(absl::StrCat("<UserId>", ie::kSimulatedUserObjectId)));
  // AddRegistryEntries takes the id from the file.
  ASSERT_TRUE(AddRegistryEntries(o_, "sub-123", r->params_path, "seedacct").ok());
  EXPECT_TRUE(
      file::ReadFile(absl::StrCat(o_.config_dir, "/AzureADAppCertThumbprint_", ie::kSimulatedUserObjectId)).ok());
}

TEST_F(CertGenTest, NamedAfterTheTokensOidClaim) {
  std::string dir = dir_ + "/jwt";
  ie::testing::ControlPlaneFixtureOptions po;
  po.state_dir = dir + "/plane";
  po.token = Jwt(R"({"aud":"https://graph.microsoft.com","oid":"6b1f0c2e-9d3a-4c5b-8e7f-112233445566","tid":"t"})");
  auto plane = ie::testing::ControlPlaneFixture::Start(po);
  ASSERT_TRUE(plane.ok()) << plane.status();
  o_.control_plane = (*plane)->url();
  o_.token = po.token;
  o_.transport = (*plane)->transport();
  o_.user_id.clear();
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->user_id, "6b1f0c2e-9d3a-4c5b-8e7f-112233445566");
  EXPECT_TRUE((*plane)->Directory().FindApplication("AzureOfflineBackup_6b1f0c2e-9d3a-4c5b-8e7f-112233445566").ok());
}

TEST(CertGenUserId, FromTheTokenOrAClearError) {
  EXPECT_EQ(*ObjectIdFromToken(Jwt(R"({"oid":"abc-1","upn":"a@b"})")), "abc-1");
  const std::string opaque = "opaque-secret-token";
  absl::StatusOr<std::string> none = ObjectIdFromToken(opaque);
  EXPECT_THAT(none, StatusIs(absl::StatusCode::kNotFound, HasSubstr("not a JWT")));
  EXPECT_THAT(std::string(none.status().message()), ::testing::Not(HasSubstr(opaque)));
  EXPECT_THAT(ObjectIdFromToken(Jwt(R"({"appid":"x"})")), StatusIs(absl::StatusCode::kNotFound, HasSubstr("no oid")));
  EXPECT_THAT(ObjectIdFromToken("a.!!!.c"), StatusIs(absl::StatusCode::kNotFound));
  // No explicit id, no oid, and a directory that does not answer: the error names both and the way out.
  class Refusing : public http::HttpTransport {
   public:
    absl::StatusOr<http::HttpResponse> Send(const http::HttpRequest&) override {
      return http::HttpResponse{401, {}, R"({"error":{"code":"InvalidAuthenticationToken","message":"no"}})"};
    }
  } refusing;
  ie::DirectoryClient directory(&refusing, "http://graph.invalid", opaque);
  absl::StatusOr<std::string> id = ResolveUserId("", opaque, directory);
  EXPECT_THAT(id, StatusIs(absl::StatusCode::kNotFound, HasSubstr("--user-id")));
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("GET /me"));
  EXPECT_THAT(std::string(id.status().message()), ::testing::Not(HasSubstr(opaque)));
  EXPECT_EQ(*ResolveUserId("given", opaque, directory), "given");
}

// Seed 004's manual path, both ways, against the simulated directory: the application exists without keys (delete
// it, run again), or with another certificate (upload ours, record the thumbprint, run again).
TEST_F(CertGenTest, ManualPathDeleteAnApplicationWithoutKeys) {
  ie::DirectoryClient client = plane_->Directory();
  ie::proto::Application bare;
  bare.set_displayname("AzureOfflineBackup_8f3a2c");
  ASSERT_TRUE(client.CreateApplication(bare).ok());
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("can be deleted safely")));
  ASSERT_THAT(ie::PortalDeleteIfNoKeys(client, "AzureOfflineBackup_8f3a2c"), IsOk());
  absl::StatusOr<CreateResult> again = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(again->thumbprint));  // the same certificate
  EXPECT_EQ(CertificatesIn(o_.cert_store), 1);
  EXPECT_EQ(client.FindApplication("AzureOfflineBackup_8f3a2c")->keycredentials_size(), 1);
  EXPECT_TRUE(AddRegistryEntries(o_, "sub-123", again->params_path, "seedacct").ok());
}

TEST_F(CertGenTest, ManualPathUploadTheCertificate) {
  ie::DirectoryClient client = plane_->Directory();
  ie::proto::Application other;
  other.set_displayname("AzureOfflineBackup_8f3a2c");
  other.add_keycredentials()->set_customkeyidentifier("0123456789ABCDEF0123456789ABCDEF01234567");
  ASSERT_TRUE(client.CreateApplication(other).ok());
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(ie::PortalDeleteIfNoKeys(client, "AzureOfflineBackup_8f3a2c"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not safe to delete")));
  std::string message(r.status().message());
  size_t at = message.find(o_.output_dir + "/CB_AzureADCertforOfflineSeeding_");
  ASSERT_NE(at, std::string::npos) << message;
  std::string cer = message.substr(at, message.find(".cer", at) + 4 - at);
  EXPECT_THAT(ie::PortalUploadCertificate(client, "AzureOfflineBackup_8f3a2c", o_.output_dir + "/nothing.cer"),
              StatusIs(absl::StatusCode::kNotFound));
  absl::StatusOr<std::string> uploaded = ie::PortalUploadCertificate(client, "AzureOfflineBackup_8f3a2c", cer);
  ASSERT_TRUE(uploaded.ok()) << uploaded.status();
  ie::proto::Application app = *client.FindApplication("AzureOfflineBackup_8f3a2c");
  ASSERT_EQ(app.keycredentials_size(), 2);                            // the other key stays
  EXPECT_EQ(app.keycredentials(1).customkeyidentifier(), *uploaded);  // derived by the directory, as Graph does
  EXPECT_FALSE(app.keycredentials(1).enddatetime().empty());
  absl::StatusOr<CreateResult> done = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->thumbprint, *uploaded);
  EXPECT_THAT(done->note, HasSubstr("the application holds it"));
  EXPECT_EQ(CertificatesIn(o_.cert_store), 1);
  ASSERT_TRUE(AddRegistryEntries(o_, "sub-123", done->params_path, "seedacct").ok());
  EXPECT_EQ(*file::ReadFile(o_.config_dir + "/AzureADAppCertThumbprint_8f3a2c"), *uploaded + "\n");
  // A file that is not a certificate is refused by the portal and by the directory.
  ASSERT_TRUE(file::WriteFileAtomic(o_.output_dir + "/junk.cer", "not a certificate", 0644).ok());
  EXPECT_THAT(ie::PortalUploadCertificate(client, "AzureOfflineBackup_8f3a2c", o_.output_dir + "/junk.cer"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a DER certificate")));
  ie::proto::KeyCredential junk;
  junk.set_key("bm90IGEgY2VydGlmaWNhdGU=");
  EXPECT_THAT(client.SetKeyCredentials(app.id(), {junk}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a base64 DER X.509 certificate")));
}

// The agent's side: what AddRegistryEntries wrote is read back for the account, and refused for another.
TEST_F(CertGenTest, RegisteredApplicationIsReadForItsAccount) {
  absl::StatusOr<CreateResult> r = CreateNewApplication(o_, "sub-123");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(ReadRegisteredApplication(o_.scratch_dir, "sub-123", "seedacct"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("certgen AddRegistryEntries SubscriptionId:sub-123")));
  ASSERT_TRUE(AddRegistryEntries(o_, "sub-123", r->params_path, "seedacct").ok());
  absl::StatusOr<OfflineApplicationParams> p = ReadRegisteredApplication(o_.scratch_dir, "SUB-123", "seedacct");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->thumbprint, r->thumbprint);
  EXPECT_EQ(p->application_name, "AzureOfflineBackup_8f3a2c");
  EXPECT_FALSE(p->application_id.empty());
  EXPECT_THAT(ReadRegisteredApplication(o_.scratch_dir, "sub-999", "seedacct"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not sub-999")));
}

TEST(CertGenArgs, WindowsStyleKeys) {
  auto kv = ParseKeyValueArgs({"SubscriptionId:abc", "XMLFILEPATH:C:\\x.xml", "storageAccountName:acct"});
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->at("subscriptionid"), "abc");
  EXPECT_EQ(kv->at("xmlfilepath"), "C:\\x.xml");
  EXPECT_THAT(ParseKeyValueArgs({"SubscriptionId"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Key:Value")));
  EXPECT_THAT(ParseKeyValueArgs({"a:1", "A:2"}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  process::CommandResult r = *process::RunCommand({"offline_seed/certgen/certgen", "CreateNewApplication"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.stderr_data, HasSubstr("needs SubscriptionId"));
  EXPECT_THAT(r.stderr_data, HasSubstr("usage:"));
}

}  // namespace
}  // namespace vmb::offline
