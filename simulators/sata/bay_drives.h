// The simulated drive bay as diskprep's drive source (offline::DriveEnumerator): each bay drive described as a
// DriveInfo (identity, size, kind, attachment; its faults stay the bay's own, found only by using the drive) and
// opened as its SataDrive.
#ifndef VMBACKUP_SIMULATORS_SATA_BAY_DRIVES_H_
#define VMBACKUP_SIMULATORS_SATA_BAY_DRIVES_H_

#include <memory>
#include <string>
#include <vector>

#include "offline_seed/drives/drive_source.h"
#include "simulators/sata/drive.h"

namespace vmb::sata {

drives::proto::DriveInfo InfoOf(const proto::DriveSpec& spec);

class BayDrives : public offline::DriveEnumerator {
 public:
  explicit BayDrives(std::string dir) : bay_(std::move(dir)) {}
  absl::StatusOr<std::vector<drives::proto::DriveInfo>> List() override;
  absl::StatusOr<drives::proto::DriveInfo> Get(const std::string& name) override;
  absl::StatusOr<std::unique_ptr<io::BlockDevice>> Open(const std::string& name) override;

 private:
  DriveBay bay_;
};

}  // namespace vmb::sata

#endif  // VMBACKUP_SIMULATORS_SATA_BAY_DRIVES_H_
