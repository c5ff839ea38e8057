// CMS EnvelopedData (RFC 5652) as the Azure guest agent uses it to protect extension settings: the settings JSON is
// encrypted to the VM's certificate (RSA key transport) with AES-256-CBC or DES-EDE3-CBC content encryption and
// delivered as base64 of the DER structure. Interoperates with `openssl cms -encrypt/-decrypt -binary -outform DER`.
#ifndef VMBACKUP_COMMON_CRYPTO_CMS_H_
#define VMBACKUP_COMMON_CRYPTO_CMS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/certificate.h"

namespace vmb::crypto {

enum class CmsCipher { kAes256Cbc, kDesEde3Cbc };

// Encrypts `plaintext` to `recipient`; returns DER.
absl::StatusOr<std::string> CmsEncrypt(absl::string_view plaintext, const Certificate& recipient, CmsCipher cipher);

// Decrypts DER EnvelopedData. Errors (messages never include plaintext or key material):
//   kInvalidArgument     not a CMS EnvelopedData structure
//   kFailedPrecondition  no recipient matches `identity.certificate` (encrypted for another certificate; the message
//                        names the recipients' issuer and serial so the admin can find the right one)
//   kDataLoss            recipient matches but the content does not decrypt (corrupted or wrong key)
absl::StatusOr<std::string> CmsDecrypt(absl::string_view der, const CertificateAndKey& identity);

// The same, for base64 of DER as it appears in `protectedSettings`; bad base64 is kInvalidArgument.
absl::StatusOr<std::string> CmsDecryptBase64(absl::string_view base64_der, const CertificateAndKey& identity);

}  // namespace vmb::crypto

#endif  // VMBACKUP_COMMON_CRYPTO_CMS_H_
