// CMS EnvelopedData interop with the `openssl cms` command, both directions, both content ciphers.
#include "common/crypto/cms.h"

#include <cstdlib>

#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::vmb::testing::IsOkAndHolds;
using ::vmb::testing::StatusIs;

constexpr char kSettings[] =
    R"({"objectStr":"eyJibG9iU0FTVXJpIjpbXX0=","logsBlobUri":"https://a.blob.core.windows.net/c/l?sig=SECRET",)"
    R"("statusBlobUri":"https://a.blob.core.windows.net/c/s?sig=SECRET"})";

class CmsInteropTest : public ::testing::Test {
 protected:
  static std::string Dir() { return ::vmb::testing::TempDir(); }

  static void Run(const std::vector<std::string>& argv, std::string* out = nullptr) {
    absl::StatusOr<process::CommandResult> r = process::RunCommand(argv);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->exit_code, 0) << argv[0] << " " << argv[1] << ": " << r->stderr_data;
    if (out) *out = r->stdout_data;
  }

  // A VM certificate made by `openssl req`, as the fabric would deliver it.
  static CertificateAndKey MakeOpensslIdentity(const std::string& name) {
    std::string key = Dir() + "/" + name + ".key", crt = Dir() + "/" + name + ".crt";
    Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-subj",
         "/CN=" + name, "-days", "2"});
    return CertificateAndKey{*Certificate::FromPem(*file::ReadFile(crt)), *PrivateKey::FromPem(*file::ReadFile(key))};
  }

  static void SetUpTestSuite() {
    vm_ = new CertificateAndKey(MakeOpensslIdentity("vm"));
    other_ = new CertificateAndKey(MakeOpensslIdentity("other"));
  }

  static CertificateAndKey* vm_;
  static CertificateAndKey* other_;
};

CertificateAndKey* CmsInteropTest::vm_ = nullptr;
CertificateAndKey* CmsInteropTest::other_ = nullptr;

TEST_F(CmsInteropTest, DecryptsWhatOpensslEncrypts) {
  ASSERT_TRUE(file::WriteFileAtomic(Dir() + "/plain.json", kSettings, 0600).ok());
  for (const char* cipher : {"-aes256", "-des3"}) {
    std::string der_path = Dir() + "/enc" + cipher + ".der";
    Run({"openssl", "cms", "-encrypt", "-binary", cipher, "-in", Dir() + "/plain.json", "-outform", "DER", "-out",
         der_path, Dir() + "/vm.crt"});
    std::string der = *file::ReadFile(der_path);
    EXPECT_THAT(CmsDecrypt(der, *vm_), IsOkAndHolds(std::string(kSettings))) << cipher;
    EXPECT_THAT(CmsDecryptBase64(Base64Encode(der), *vm_), IsOkAndHolds(std::string(kSettings))) << cipher;
  }
}

TEST_F(CmsInteropTest, OpensslDecryptsWhatWeEncrypt) {
  for (CmsCipher cipher : {CmsCipher::kAes256Cbc, CmsCipher::kDesEde3Cbc}) {
    absl::StatusOr<std::string> der = CmsEncrypt(kSettings, vm_->certificate, cipher);
    ASSERT_TRUE(der.ok()) << der.status();
    std::string path = Dir() + "/ours.der";
    ASSERT_TRUE(file::WriteFileAtomic(path, *der, 0600).ok());
    std::string out;
    Run({"openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-in", path, "-recip", Dir() + "/vm.crt", "-inkey",
         Dir() + "/vm.key"},
        &out);
    EXPECT_EQ(out, kSettings);
    std::string info;
    Run({"openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", path}, &info);
    EXPECT_THAT(info, HasSubstr(cipher == CmsCipher::kAes256Cbc ? "aes-256-cbc" : "des-ede3-cbc"));
  }
}

TEST_F(CmsInteropTest, BadInputGetsPreciseErrorsWithoutSecrets) {
  absl::StatusOr<std::string> der = CmsEncrypt(kSettings, vm_->certificate, CmsCipher::kAes256Cbc);
  ASSERT_TRUE(der.ok());
  // Encrypted for another certificate.
  absl::StatusOr<std::string> r = CmsDecrypt(*der, *other_);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another certificate")));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("CN=vm"));
  // Malformed base64, and base64 of something that is not CMS.
  EXPECT_THAT(CmsDecryptBase64("MIIB!!!", *vm_), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("base64")));
  EXPECT_THAT(CmsDecryptBase64(Base64Encode("not cms at all"), *vm_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a DER CMS")));
  // Corrupted ciphertext (the last bytes are the encrypted content). CBC without a MAC cannot catch every
  // corruption (about 1 in 256 still ends in valid padding; the settings JSON parser catches those), so the
  // property tested is: corruption never yields the original plaintext, and is reported as kDataLoss nearly always.
  int data_loss = 0;
  for (int i = 1; i <= 32; ++i) {
    std::string corrupt = *der;
    corrupt[corrupt.size() - 1 - (i % 16)] ^= static_cast<char>(i);
    r = CmsDecrypt(corrupt, *vm_);
    if (r.ok()) {
      EXPECT_NE(*r, kSettings);
    } else {
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kDataLoss));
      EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("SECRET")));
      ++data_loss;
    }
  }
  EXPECT_GE(data_loss, 28);
}

}  // namespace
}  // namespace vmb::crypto
