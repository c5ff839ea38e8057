// A prepared drive: a 1 MiB header (drive id, job, key protector) followed by data encrypted with AES-256-XTS under a
// random 512-bit volume key. The key is stored only wrapped under a key derived from the drive's BitLocker-format
// recovery password, so the datacenter (which gets the password through the import job) can unlock it and nobody
// else can. EncryptedVolume presents the plaintext as a BlockDevice of the data area.
#ifndef VMBACKUP_OFFLINE_SEED_VOLUME_ENCRYPTED_VOLUME_H_
#define VMBACKUP_OFFLINE_SEED_VOLUME_ENCRYPTED_VOLUME_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/crypto/random.h"
#include "common/crypto/recovery_password.h"
#include "common/crypto/xts.h"
#include "common/io/block_device.h"
#include "offline_seed/volume/volume.pb.h"

namespace vmb::offline {

// The first bytes of a prepared drive's encrypted data area hold its DriveContents (the DriveManifest and where each
// range is, volume.proto); the ranges follow.
inline constexpr uint64_t kManifestArea = 16u << 20;

inline constexpr uint64_t kHeaderSize = 1u << 20;
inline constexpr uint32_t kDataUnit = 4096;

struct FormatOptions {
  std::string drive_id;
  std::string job_name;
  uint64_t kdf_n = 1u << 15;  // scrypt cost; tests lower it
};

struct Formatted {
  crypto::RecoveryPassword password;  // a secret: print once for the admin, store only in the import job
  proto::VolumeHeader header;
};

// Writes a new header with a fresh volume key and recovery password (everything on the drive is unreachable
// afterwards). kInvalidArgument when the drive is smaller than the header plus one data unit.
absl::StatusOr<Formatted> FormatVolume(io::BlockDevice& raw, const FormatOptions& options,
                                       crypto::RandomSource& random = crypto::SecureRandom());

// The header, readable without the password. kDataLoss when the drive holds no volume header.
absl::StatusOr<proto::VolumeHeader> ReadVolumeHeader(io::BlockDevice& raw);

// The import job's driveHeaderHash for a drive: SHA-256 (upper-case hex) of its header as written (its canonical
// JSON). diskprep sends it with the drive; the datacenter checks the drive it receives against it.
std::string DriveHeaderHash(const proto::VolumeHeader& header);

// A drive's id in the import job is its hardware serial number (ATA IDENTIFY words 10-19), trimmed; characters
// other than letters, digits, '-', '_' and '.' become '-' (the id names the drive's log blobs).
std::string DriveIdFromSerial(const std::string& serial);

class EncryptedVolume : public io::BlockDevice {
 public:
  // kPermissionDenied when the recovery password does not unlock the key protector.
  static absl::StatusOr<std::unique_ptr<EncryptedVolume>> Unlock(io::BlockDevice& raw,
                                                                 const crypto::RecoveryPassword& password);

  uint64_t size() const override { return header_.datalength(); }
  // Offsets and lengths are multiples of 4096 (the XTS data unit); kInvalidArgument otherwise.
  absl::Status Read(uint64_t offset, uint64_t length, std::string* out) override;
  absl::Status Write(uint64_t offset, absl::string_view data) override;
  absl::Status Flush() override { return raw_.Flush(); }
  const proto::VolumeHeader& header() const { return header_; }

 private:
  EncryptedVolume(io::BlockDevice& raw, proto::VolumeHeader header, std::string key)
      : raw_(raw), header_(std::move(header)), key_(std::move(key)) {}
  absl::Status CheckAligned(uint64_t offset, uint64_t length) const;

  io::BlockDevice& raw_;
  proto::VolumeHeader header_;
  std::string key_;  // the 64-byte XTS key; never leaves this object
};

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_VOLUME_ENCRYPTED_VOLUME_H_
