#include "simulators/sata/bay_drives.h"

#include "common/status/status_macros.h"

namespace vmb::sata {

drives::proto::DriveInfo InfoOf(const proto::DriveSpec& s) {
  drives::proto::DriveInfo d;
  d.set_name(s.name());
  d.set_model(s.model());
  d.set_serial(s.serial());
  d.set_firmware(s.firmware());
  d.set_capacity(s.capacity());  // what the drive reports (a counterfeit one reports more than it keeps)
  d.set_formfactor(s.formfactor());
  d.set_media(s.media());
  d.set_interface(s.interface());
  d.set_sectorsize(s.sectorsize());
  d.set_attached(s.attached());
  d.set_system(s.system());
  return d;
}

absl::StatusOr<std::vector<drives::proto::DriveInfo>> BayDrives::List() {
  ASSIGN_OR_RETURN(std::vector<proto::DriveSpec> specs, bay_.List());
  std::vector<drives::proto::DriveInfo> out;
  for (const proto::DriveSpec& s : specs) out.push_back(InfoOf(s));
  return out;
}

absl::StatusOr<drives::proto::DriveInfo> BayDrives::Get(const std::string& name) {
  ASSIGN_OR_RETURN(proto::DriveSpec spec, bay_.Get(name));
  return InfoOf(spec);
}

absl::StatusOr<std::unique_ptr<io::BlockDevice>> BayDrives::Open(const std::string& name) {
  ASSIGN_OR_RETURN(std::unique_ptr<SataDrive> drive, bay_.Open(name));
  return std::unique_ptr<io::BlockDevice>(std::move(drive));
}

}  // namespace vmb::sata
