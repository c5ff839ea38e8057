#include "common/crypto/certificate.h"

#include <sys/stat.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vmb::crypto {
namespace {

using ::testing::HasSubstr;
using ::vmb::testing::IsOk;
using ::vmb::testing::StatusIs;

std::string Dir() { return ::vmb::testing::TempDir(); }

mode_t ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0;
}

TEST(Certificate, SelfSignedWrittenAsGuestAgentLayoutAndThumbprintMatchesOpenssl) {
  SelfSignedOptions options;
  options.common_name = "CB_AzureADCertforOfflineSeeding_test";
  options.not_before = absl::Now();
  absl::StatusOr<CertificateAndKey> pair = GenerateSelfSigned(options);
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ(pair->certificate.Subject(), "CN=CB_AzureADCertforOfflineSeeding_test");
  EXPECT_GT(pair->certificate.NotAfter(), absl::Now() + absl::Hours(24 * 364));
  EXPECT_EQ(EVP_PKEY_get_bits(pair->key.get()), 2048);

  std::string dir = Dir() + "/certs";
  absl::StatusOr<std::string> thumb = WriteToCertDir(dir, *pair);
  ASSERT_TRUE(thumb.ok()) << thumb.status();
  EXPECT_EQ(ModeOf(dir + "/" + *thumb + ".prv"), 0600u);
  EXPECT_EQ(ModeOf(dir + "/" + *thumb + ".crt"), 0644u);

  absl::StatusOr<process::CommandResult> fp =
      process::RunCommand({"openssl", "x509", "-noout", "-fingerprint", "-sha1", "-in", dir + "/" + *thumb + ".crt"});
  ASSERT_TRUE(fp.ok());
  ASSERT_EQ(fp->exit_code, 0) << fp->stderr_data;
  // "sha1 Fingerprint=AB:CD:..." (the label's case differs between OpenSSL versions)
  std::string hex = absl::StrReplaceAll(fp->stdout_data.substr(fp->stdout_data.find('=') + 1), {{":", ""}, {"\n", ""}});
  EXPECT_EQ(hex, *thumb);

  absl::StatusOr<CertificateAndKey> loaded = LoadFromCertDir(dir, absl::AsciiStrToLower(*thumb));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->certificate.Der(), pair->certificate.Der());
}

TEST(Certificate, LoadsOpensslMadeTraditionalRsaKey) {
  std::string key = Dir() + "/trad.key", crt = Dir() + "/trad.crt";
  ASSERT_EQ(process::RunCommand({"openssl", "genrsa", "-traditional", "-out", key, "2048"})->exit_code, 0);
  ASSERT_EQ(
      process::RunCommand({"openssl", "req", "-x509", "-new", "-key", key, "-out", crt, "-subj", "/CN=t", "-days", "1"})
          ->exit_code,
      0);
  absl::StatusOr<Certificate> cert = Certificate::FromPem(*file::ReadFile(crt));
  ASSERT_TRUE(cert.ok());
  std::string dir = Dir() + "/trad";
  ASSERT_THAT(file::MakeDirs(dir), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(dir + "/" + cert->Thumbprint() + ".crt", *file::ReadFile(crt), 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(dir + "/" + cert->Thumbprint() + ".prv", *file::ReadFile(key), 0600), IsOk());
  EXPECT_THAT(LoadFromCertDir(dir, cert->Thumbprint()).status(), IsOk());
}

TEST(Certificate, MissingOrMismatchedFilesAreNamed) {
  SelfSignedOptions options{"a", absl::Now()};
  CertificateAndKey a = *GenerateSelfSigned(options);
  options.common_name = "b";
  CertificateAndKey b = *GenerateSelfSigned(options);
  std::string dir = Dir() + "/bad";
  std::string thumb = *WriteToCertDir(dir, a);

  // Missing certificate.
  EXPECT_THAT(LoadFromCertDir(dir, std::string(40, 'A')),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("--cert-dir")));
  // Not a thumbprint.
  EXPECT_THAT(LoadFromCertDir(dir, "xyz"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("40 hex")));
  // Mismatched .prv: b's key under a's name.
  ASSERT_THAT(file::WriteFileAtomic(dir + "/" + thumb + ".prv", b.key.Pem(), 0600), IsOk());
  EXPECT_THAT(LoadFromCertDir(dir, thumb),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not hold the private key")));
  // Garbage .prv.
  ASSERT_THAT(file::WriteFileAtomic(dir + "/" + thumb + ".prv", "-----BEGIN PRIVATE KEY-----\nzz\n", 0600), IsOk());
  EXPECT_THAT(LoadFromCertDir(dir, thumb), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a PEM")));
  // Missing .prv.
  ASSERT_EQ(::unlink((dir + "/" + thumb + ".prv").c_str()), 0);
  EXPECT_THAT(LoadFromCertDir(dir, thumb), StatusIs(absl::StatusCode::kNotFound, HasSubstr("private key")));
  // A certificate file whose content is another certificate.
  ASSERT_THAT(file::WriteFileAtomic(dir + "/" + thumb + ".crt", b.certificate.Pem(), 0644), IsOk());
  ASSERT_THAT(file::WriteFileAtomic(dir + "/" + thumb + ".prv", b.key.Pem(), 0600), IsOk());
  EXPECT_THAT(LoadFromCertDir(dir, thumb),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not the one its name says")));
}

}  // namespace
}  // namespace vmb::crypto
