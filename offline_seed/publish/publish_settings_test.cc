#include "offline_seed/publish/publish_settings.h"

#include <cstdlib>

#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::offline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::StatusIs;

std::string Dir() { return ::vmb::testing::TempDir(); }

// A management certificate made by the openssl command: PKCS#12 with an empty password.
std::string MakePkcs12Base64() {
  std::string key = Dir() + "/k.pem", crt = Dir() + "/c.pem", p12 = Dir() + "/m.p12";
  EXPECT_EQ(process::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                                 crt, "-subj", "/CN=Windows Azure Tools", "-days", "2"})
                ->exit_code,
            0);
  EXPECT_EQ(
      process::RunCommand({"openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", p12, "-passout", "pass:"})
          ->exit_code,
      0);
  return crypto::Base64Encode(*file::ReadFile(p12));
}

TEST(PublishSettings, BothSchemaVersions) {
  std::string cert = MakePkcs12Base64();
  std::string v1 = Dir() + "/v1.publishsettings", v2 = Dir() + "/v2.publishsettings";
  ASSERT_TRUE(
      file::WriteFileAtomic(v1,
                            "<?xml version=\"1.0\" encoding=\"utf-8\"?><PublishData><PublishProfile "
                            "PublishMethod=\"AzureServiceManagementAPI\" Url=\"https://management.core.windows.net/\" "
                            "ManagementCertificate=\"" +
                                cert +
                                "\"><Subscription Id=\"1111-aaaa\" "
                                "Name=\"Backup Prod\" /></PublishProfile></PublishData>",
                            0600)
          .ok());
  ASSERT_TRUE(file::WriteFileAtomic(v2,
                                    "<PublishData><PublishProfile SchemaVersion=\"2.0\" "
                                    "PublishMethod=\"AzureServiceManagementAPI\"><Subscription "
                                    "ServiceManagementUrl=\"https://management.core.windows.net\" Id=\"2222-bbbb\" "
                                    "Name=\"Dev\" ManagementCertificate=\"" +
                                        cert +
                                        "\" /><Subscription "
                                        "ServiceManagementUrl=\"https://management.core.windows.net\" Id=\"3333-cccc\" "
                                        "Name=\"Test\" ManagementCertificate=\"" +
                                        cert + "\" /></PublishProfile></PublishData>",
                                    0600)
                  .ok());
  absl::StatusOr<SubscriptionCredential> a = LoadSubscription(v1, "1111-AAAA");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->subscription.name, "Backup Prod");
  EXPECT_EQ(a->subscription.management_url, "https://management.core.windows.net/");
  EXPECT_EQ(a->credential.certificate.Subject(), "CN=Windows Azure Tools");
  absl::StatusOr<SubscriptionCredential> b = LoadSubscription(v2, "3333-cccc");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->subscription.name, "Test");

  absl::StatusOr<SubscriptionCredential> missing = LoadSubscription(v2, "9999");
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound, HasSubstr("Dev (2222-bbbb), Test (3333-cccc)")));
  EXPECT_THAT(std::string(missing.status().message()), Not(HasSubstr(cert.substr(0, 20))));
}

TEST(PublishSettings, MalformedFilesAreNamed) {
  std::string f = Dir() + "/bad.publishsettings";
  ASSERT_TRUE(file::WriteFileAtomic(f, "<html/>", 0600).ok());
  EXPECT_THAT(ReadPublishSettings(f), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("<PublishData>")));
  ASSERT_TRUE(file::WriteFileAtomic(f,
                                    "<PublishData><PublishProfile><Subscription Id=\"1\" Name=\"x\" "
                                    "ManagementCertificate=\"bm90IHBrY3MxMg==\"/></PublishProfile></PublishData>",
                                    0600)
                  .ok());
  EXPECT_THAT(LoadSubscription(f, "1"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PKCS#12")));
  EXPECT_THAT(ReadPublishSettings(Dir() + "/none"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace vmb::offline
