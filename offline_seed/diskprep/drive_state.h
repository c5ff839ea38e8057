// One chosen drive as diskprep works on it, shared by the planner, the writer and the verifier: its journal, device
// and unlocked volume, what its journal says is on it, and what the import job gets for it (PreparedDrive). Also the
// journal records' reading and writing, and the message for a drive that went away.
//
// Journal records (DiskPrepRecord, one per durable step; <staging>/diskprep/<drive>.journal):
//   formatted  driveId            the drive has a volume; its recovery password is in <drive>.recovery-password
//   range      blob, offset, length, md5, volumeOffset   a staged range, durable on the drive (after a flush)
//   full                          the drive has no room for the next range
//   manifest   manifestMd5        the manifest area is written
//   verified                      every range above read back with its MD5 (later ranges need a new verify)
//   rejected   md5 = the reason   the drive lost data; its ranges go to other drives, in this run and any later one
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_DRIVE_STATE_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_DRIVE_STATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/io/block_device.h"
#include "offline_seed/diskprep/diskprep.pb.h"
#include "offline_seed/journal/journal.h"
#include "offline_seed/volume/encrypted_volume.h"

namespace vmb::offline {

// A drive as the import job describes it.
struct PreparedDrive {
  std::string name;
  std::string drive_id;           // the drive's serial number (DriveIdFromSerial), as the import job names it
  std::string header_hash;        // DriveHeaderHash of its volume header: the job's driveHeaderHash
  std::string recovery_password;  // secret
  std::string manifest_md5;
  uint64_t bytes = 0;
  int ranges = 0;
};

// A range of a staged image (at most manifest::kMaxRange bytes): one manifest entry, one "range" record.
struct StagedRange {
  std::string blob;        // "container/job/image-0000.vhd"
  std::string image_path;  // the image in the staging location
  uint64_t blob_length = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// How a range is named in the sets of ranges done: "blob@offset".
std::string RangeKey(const std::string& blob, uint64_t offset);

// `v` rounded up to the volume's 4 KiB data unit.
uint64_t RoundUp4K(uint64_t v);

struct DriveState {
  std::string name;
  std::string serial_id;  // DriveIdFromSerial of its IDENTIFY serial: its id in the import job
  std::unique_ptr<Journal> journal;
  std::unique_ptr<io::BlockDevice> device;
  std::unique_ptr<EncryptedVolume> volume;  // once formatted or unlocked
  PreparedDrive prepared;
  std::vector<proto::DiskPrepRecord> ranges;  // "range" records, in journal order
  uint64_t next_offset = kManifestArea;       // where the next range goes in the volume
  bool full = false;
  bool verified = true;  // formatted, and no range journaled since the last "verified"
  bool rejected = false;
};

// The journal's records (a line that is not a record is skipped).
std::vector<proto::DiskPrepRecord> Records(const Journal& journal);

// Appends `record`; durable when it returns OK.
absl::Status AppendRecord(Journal& journal, const proto::DiskPrepRecord& record);

// kUnavailable (the drive went away) with the way out added; any other status unchanged.
absl::Status WithReattachHint(const absl::Status& status);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_DRIVE_STATE_H_
