// AES-256-XTS (IEEE 1619) over fixed-size sectors, as BitLocker-style drive encryption uses it: the tweak of each
// sector is its sector number as a 128-bit little-endian integer. Backed by OpenSSL's EVP_aes_256_xts.
#ifndef VMBACKUP_COMMON_CRYPTO_XTS_H_
#define VMBACKUP_COMMON_CRYPTO_XTS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/openssl_util.h"

namespace vmb::crypto {

class XtsCipher {
 public:
  static constexpr size_t kKeySize = 64;  // two AES-256 keys

  // `key` is 64 bytes whose halves differ (OpenSSL refuses equal halves, as IEEE 1619 requires);
  // `sector_size` is 512 or 4096 (any multiple of 16 from 16 up is accepted).
  static absl::StatusOr<XtsCipher> Create(absl::string_view key, size_t sector_size);

  XtsCipher(XtsCipher&&) = default;
  XtsCipher& operator=(XtsCipher&&) = default;

  size_t sector_size() const { return sector_size_; }

  // En/decrypts `size` bytes in place, a whole number of sectors, the first being `first_sector`.
  // kInvalidArgument when `size` is not a multiple of the sector size. One object per thread.
  absl::Status EncryptSectors(uint64_t first_sector, char* data, size_t size);
  absl::Status DecryptSectors(uint64_t first_sector, char* data, size_t size);

 private:
  XtsCipher(size_t sector_size, internal::OpenSslPtr<EVP_CIPHER_CTX> enc, internal::OpenSslPtr<EVP_CIPHER_CTX> dec)
      : sector_size_(sector_size), enc_(std::move(enc)), dec_(std::move(dec)) {}
  absl::Status Run(EVP_CIPHER_CTX* ctx, uint64_t first_sector, char* data, size_t size);

  size_t sector_size_;
  internal::OpenSslPtr<EVP_CIPHER_CTX> enc_;
  internal::OpenSslPtr<EVP_CIPHER_CTX> dec_;
};

}  // namespace vmb::crypto

#endif  // VMBACKUP_COMMON_CRYPTO_XTS_H_
