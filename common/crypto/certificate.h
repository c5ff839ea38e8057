// X.509 certificates and private keys as the Linux guest agent keeps them: PEM files named by the certificate's
// thumbprint (`<THUMBPRINT>.crt`, `<THUMBPRINT>.prv`) in a certificate folder (/var/lib/waagent by default).
#ifndef VMBACKUP_COMMON_CRYPTO_CERTIFICATE_H_
#define VMBACKUP_COMMON_CRYPTO_CERTIFICATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/crypto/openssl_util.h"

namespace vmb::crypto {

class Certificate {
 public:
  // kInvalidArgument when `pem` holds no certificate.
  static absl::StatusOr<Certificate> FromPem(absl::string_view pem);
  static absl::StatusOr<Certificate> FromDer(absl::string_view der);

  std::string Der() const;
  std::string Pem() const;
  // Upper-case hex SHA-1 of the DER encoding: the name Azure and the guest agent use for a certificate.
  std::string Thumbprint() const;
  std::string Subject() const;  // one-line RFC 2253 form, e.g. "CN=Windows Azure CRP Certificate Generator"
  absl::Time NotAfter() const;

  X509* get() const { return x509_.get(); }
  // Takes ownership of a non-null certificate.
  explicit Certificate(internal::OpenSslPtr<X509> x509) : x509_(std::move(x509)) {}

 private:
  internal::OpenSslPtr<X509> x509_;
};

class PrivateKey {
 public:
  // Accepts PKCS#8 and traditional RSA PEM. kInvalidArgument when `pem` holds no key. The message never echoes
  // the input.
  static absl::StatusOr<PrivateKey> FromPem(absl::string_view pem);
  std::string Pem() const;  // unencrypted PKCS#8
  EVP_PKEY* get() const { return key_.get(); }
  // Takes ownership of a non-null key.
  explicit PrivateKey(internal::OpenSslPtr<EVP_PKEY> key) : key_(std::move(key)) {}

 private:
  internal::OpenSslPtr<EVP_PKEY> key_;
};

struct CertificateAndKey {
  Certificate certificate;
  PrivateKey key;
};

// Loads `<dir>/<THUMBPRINT>.crt` and `.prv` (thumbprint case-insensitive). Errors: kNotFound naming the missing
// file; kInvalidArgument for unparsable PEM; kFailedPrecondition when the key does not belong to the certificate,
// or the certificate's own thumbprint differs from its file name.
absl::StatusOr<CertificateAndKey> LoadFromCertDir(const std::string& dir, absl::string_view thumbprint);

struct SelfSignedOptions {
  std::string common_name;  // subject and issuer CN
  absl::Time not_before;    // usually now
  absl::Duration validity = absl::Hours(24 * 365);
  int rsa_bits = 2048;
};

// A new RSA key and a self-signed certificate over it (SHA-256 signature, random 64-bit serial).
absl::StatusOr<CertificateAndKey> GenerateSelfSigned(const SelfSignedOptions& options);

// Decodes a PKCS#12 bundle (DER) holding one certificate and its key, e.g. the ManagementCertificate of a
// .publishsettings file (empty password). kInvalidArgument for anything else, never echoing the input.
absl::StatusOr<CertificateAndKey> DecodePkcs12(absl::string_view der, absl::string_view password = "");

// Writes `<dir>/<THUMBPRINT>.crt` (0644) and `<dir>/<THUMBPRINT>.prv` (0600), atomically. Returns the thumbprint.
absl::StatusOr<std::string> WriteToCertDir(const std::string& dir, const CertificateAndKey& pair);

}  // namespace vmb::crypto

#endif  // VMBACKUP_COMMON_CRYPTO_CERTIFICATE_H_
