// BitLocker-format recovery passwords and the key hierarchy behind them.
//
// A recovery password is 48 digits in 8 dash-separated groups of 6. Each group is a multiple of 11 below 720896,
// so it carries 16 bits (group / 11) and the password 128 bits; the divisibility is a per-group typo check.
//
// Keys: a drive's data key is random. It is only ever stored wrapped (AES-256 key wrap, RFC 5649) under a
// key-encryption key derived from the recovery password with scrypt and a random salt, so the password alone,
// without the wrapped blob, reveals nothing about the data key, and guessing is slow.
#ifndef VMBACKUP_COMMON_CRYPTO_RECOVERY_PASSWORD_H_
#define VMBACKUP_COMMON_CRYPTO_RECOVERY_PASSWORD_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/crypto/random.h"

namespace vmb::crypto {

class RecoveryPassword {
 public:
  static constexpr int kGroups = 8;

  static RecoveryPassword Generate(RandomSource& random);

  // Accepts groups separated by '-' or spaces (as people type them). Errors are kInvalidArgument and name the
  // problem: wrong number of digits or groups, a non-digit, or "group N (ddddd) is not a multiple of 11" /
  // "is too large" for a mistyped group. The message shows only the offending group, never the whole password.
  static absl::StatusOr<RecoveryPassword> Parse(absl::string_view text);

  std::string ToString() const;     // "dddddd-dddddd-...": a secret, never log it
  std::string KeyMaterial() const;  // the 16 bytes it encodes (group values, little-endian)

  bool operator==(const RecoveryPassword& other) const { return values_ == other.values_; }

 private:
  explicit RecoveryPassword(std::array<uint16_t, kGroups> values) : values_(values) {}
  std::array<uint16_t, kGroups> values_;
};

// scrypt parameters stored beside the wrapped key. Defaults cost ~32 MiB and ~0.1 s per derivation.
struct KdfParams {
  std::string salt;  // 16 random bytes
  uint64_t n = 1u << 15;
  uint64_t r = 8;
  uint64_t p = 1;
};

KdfParams NewKdfParams(RandomSource& random);

// The 32-byte key-encryption key for `password` under `params`.
absl::StatusOr<std::string> DeriveKeyEncryptionKey(const RecoveryPassword& password, const KdfParams& params);

// AES-256 key wrap with padding (RFC 5649) of `key` under the 32-byte `kek`.
absl::StatusOr<std::string> WrapKey(absl::string_view kek, absl::string_view key);

// Unwraps; kPermissionDenied when the integrity check fails (wrong recovery password or tampered blob).
absl::StatusOr<std::string> UnwrapKey(absl::string_view kek, absl::string_view wrapped);

}  // namespace vmb::crypto

#endif  // VMBACKUP_COMMON_CRYPTO_RECOVERY_PASSWORD_H_
