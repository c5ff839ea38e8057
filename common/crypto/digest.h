// Streaming message digests (MD5 for Azure Content-MD5 and DriveManifest ranges, SHA-1 for certificate
// thumbprints, SHA-256 for content addressing) and HMAC-SHA256 (Shared Key, SAS), all through OpenSSL EVP.
#ifndef VMBACKUP_COMMON_CRYPTO_DIGEST_H_
#define VMBACKUP_COMMON_CRYPTO_DIGEST_H_

#include <string>

#include "absl/strings/string_view.h"
#include "common/crypto/openssl_util.h"

namespace vmb::crypto {

enum class DigestAlgorithm { kMd5, kSha1, kSha256 };

// Feed bytes with Update(), read the raw digest with Finish(). Reusable: Finish() resets it.
// Not thread-safe; one per thread.
class Digest {
 public:
  explicit Digest(DigestAlgorithm algorithm);
  Digest(Digest&&) = default;
  Digest& operator=(Digest&&) = default;

  void Update(absl::string_view data);
  std::string Finish();  // raw bytes (16, 20 or 32)

 private:
  const EVP_MD* md_;
  internal::OpenSslPtr<EVP_MD_CTX> ctx_;
};

std::string Md5(absl::string_view data);
std::string Sha1(absl::string_view data);
std::string Sha256(absl::string_view data);

// Raw HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(absl::string_view key, absl::string_view data);

}  // namespace vmb::crypto

#endif  // VMBACKUP_COMMON_CRYPTO_DIGEST_H_
