#include "common/crypto/certificate.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::crypto {

using internal::MemoryBio;
using internal::OpenSslError;
using internal::OpenSslPtr;

absl::StatusOr<Certificate> Certificate::FromPem(absl::string_view pem) {
  OpenSslPtr<BIO> bio = MemoryBio(pem);
  OpenSslPtr<X509> x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x509) return OpenSslError(absl::StatusCode::kInvalidArgument, "not a PEM certificate");
  return Certificate(std::move(x509));
}

absl::StatusOr<Certificate> Certificate::FromDer(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OpenSslPtr<X509> x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) return OpenSslError(absl::StatusCode::kInvalidArgument, "not a DER certificate");
  return Certificate(std::move(x509));
}

std::string Certificate::Der() const {
  unsigned char* buf = nullptr;
  int len = i2d_X509(x509_.get(), &buf);
  std::string out(reinterpret_cast<char*>(buf), len > 0 ? static_cast<size_t>(len) : 0);
  OPENSSL_free(buf);
  return out;
}

std::string Certificate::Pem() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x509_.get());
  return internal::BioContents(bio.get());
}

std::string Certificate::Thumbprint() const { return Base16Encode(Sha1(Der()), /*upper=*/true); }

std::string Certificate::Subject() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(x509_.get()), 0, XN_FLAG_RFC2253);
  return internal::BioContents(bio.get());
}

absl::Time Certificate::NotAfter() const {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x509_.get()), &tm) != 1) return absl::InfinitePast();
  return absl::FromTM(tm, absl::UTCTimeZone());
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(absl::string_view pem) {
  OpenSslPtr<BIO> bio = MemoryBio(pem);
  OpenSslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    internal::DrainOpenSslErrors();  // may quote offsets into the key; drop
    return absl::InvalidArgumentError("not a PEM private key (PKCS#8 or RSA, unencrypted)");
  }
  return PrivateKey(std::move(key));
}

std::string PrivateKey::Pem() const {
  OpenSslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return internal::BioContents(bio.get());
}

absl::StatusOr<CertificateAndKey> LoadFromCertDir(const std::string& dir, absl::string_view thumbprint) {
  std::string thumb = absl::AsciiStrToUpper(thumbprint);
  if (thumb.size() != 40 || !Base16Decode(thumb).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate thumbprint \"", thumbprint, "\" is not 40 hex digits (SHA-1)"));
  }
  std::string crt_path = absl::StrCat(dir, "/", thumb, ".crt");
  std::string prv_path = absl::StrCat(dir, "/", thumb, ".prv");
  absl::StatusOr<std::string> crt_pem = file::ReadFile(crt_path);
  if (!crt_pem.ok()) {
    return absl::Status(crt_pem.status().code(),
                        absl::StrCat("certificate ", thumb, " not found in ", dir, ": ", crt_pem.status().message(),
                                     " (has the guest agent received the VM's certificates? check --cert-dir)"));
  }
  absl::StatusOr<std::string> prv_pem = file::ReadFile(prv_path);
  if (!prv_pem.ok()) {
    return absl::Status(prv_pem.status().code(),
                        absl::StrCat("private key for certificate ", thumb, " missing: ", prv_pem.status().message()));
  }
  absl::StatusOr<Certificate> cert = Certificate::FromPem(*crt_pem);
  if (!cert.ok()) return absl::InvalidArgumentError(absl::StrCat(crt_path, ": ", cert.status().message()));
  absl::StatusOr<PrivateKey> key = PrivateKey::FromPem(*prv_pem);
  if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat(prv_path, ": ", key.status().message()));
  if (cert->Thumbprint() != thumb) {
    return absl::FailedPreconditionError(
        absl::StrCat(crt_path, " holds certificate ", cert->Thumbprint(), ", not the one its name says"));
  }
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    internal::DrainOpenSslErrors();
    return absl::FailedPreconditionError(
        absl::StrCat(prv_path, " does not hold the private key of certificate ", thumb));
  }
  return CertificateAndKey{*std::move(cert), *std::move(key)};
}

absl::StatusOr<CertificateAndKey> GenerateSelfSigned(const SelfSignedOptions& options) {
  if (options.common_name.empty()) return absl::InvalidArgumentError("certificate common name is empty");
  if (options.validity <= absl::ZeroDuration()) return absl::InvalidArgumentError("certificate validity must be > 0");
  OpenSslPtr<EVP_PKEY> pkey(EVP_RSA_gen(static_cast<unsigned int>(options.rsa_bits)));
  if (!pkey) return OpenSslError(absl::StatusCode::kInternal, "RSA key generation failed");
  OpenSslPtr<X509> x509(X509_new());
  X509_set_version(x509.get(), 2);
  unsigned char serial_bytes[8];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "random source failed");
  }
  serial_bytes[0] &= 0x7f;  // positive
  BIGNUM* serial = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x509.get()));
  BN_free(serial);
  time_t start = absl::ToTimeT(options.not_before);
  ASN1_TIME_set(X509_getm_notBefore(x509.get()), start);
  ASN1_TIME_set(X509_getm_notAfter(x509.get()), start + absl::ToInt64Seconds(options.validity));
  X509_NAME* name = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(options.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x509.get(), name);
  X509_set_pubkey(x509.get(), pkey.get());
  if (X509_sign(x509.get(), pkey.get(), EVP_sha256()) == 0) {
    return OpenSslError(absl::StatusCode::kInternal, "certificate signing failed");
  }
  return CertificateAndKey{Certificate(std::move(x509)), PrivateKey(std::move(pkey))};
}

absl::StatusOr<CertificateAndKey> DecodePkcs12(absl::string_view der, absl::string_view password) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
  if (p12 == nullptr) {
    internal::DrainOpenSslErrors();
    return absl::InvalidArgumentError("not a PKCS#12 certificate bundle");
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  std::string pass(password);
  int ok = PKCS12_parse(p12, pass.c_str(), &key, &cert, nullptr);
  PKCS12_free(p12);
  if (ok != 1 || key == nullptr || cert == nullptr) {
    internal::DrainOpenSslErrors();
    if (key) EVP_PKEY_free(key);
    if (cert) X509_free(cert);
    return absl::InvalidArgumentError("the PKCS#12 bundle does not open (wrong password, or no certificate and key)");
  }
  return CertificateAndKey{Certificate(OpenSslPtr<X509>(cert)), PrivateKey(OpenSslPtr<EVP_PKEY>(key))};
}

absl::StatusOr<std::string> WriteToCertDir(const std::string& dir, const CertificateAndKey& pair) {
  std::string thumb = pair.certificate.Thumbprint();
  RETURN_IF_ERROR(file::MakeDirs(dir, 0700));
  RETURN_IF_ERROR(file::WriteFileAtomic(absl::StrCat(dir, "/", thumb, ".prv"), pair.key.Pem(), 0600));
  RETURN_IF_ERROR(file::WriteFileAtomic(absl::StrCat(dir, "/", thumb, ".crt"), pair.certificate.Pem(), 0644));
  return thumb;
}

}  // namespace vmb::crypto
