// For the tests of diskprep's pieces: drives in memory, a chosen drive over any device, staged images in a folder.
#ifndef VMBACKUP_OFFLINE_SEED_DISKPREP_DISKPREP_TESTING_H_
#define VMBACKUP_OFFLINE_SEED_DISKPREP_DISKPREP_TESTING_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/io/memory_device.h"
#include "common/io/testing/block_device_contract.h"
#include "gtest/gtest.h"
#include "offline_seed/diskprep/drive_state.h"
#include "offline_seed/diskprep/planner.h"
#include "offline_seed/diskprep/shipping.h"
#include "offline_seed/drives/drive_source.h"

namespace vmb::offline::diskprep_testing {

// A usable drive as a DriveEnumerator reports it: internal SATA III, 2.5" SSD, attached.
inline drives::proto::DriveInfo UsableDrive(const std::string& name, uint64_t capacity) {
  drives::proto::DriveInfo d;
  d.set_name(name);
  d.set_model("Model " + name);
  d.set_serial("SN-" + name);
  d.set_capacity(capacity);
  d.set_formfactor("2.5");
  d.set_media("ssd");
  d.set_interface("sata3");
  d.set_sectorsize(512);
  d.set_attached(true);
  return d;
}

// Drives in memory. Each Open hands out a device forwarding to the drive's memory (so what is written survives the
// drive being opened again, as on a real drive); a drive marked gone fails to open with kUnavailable.
class MemoryDrives : public DriveEnumerator {
 public:
  void Add(const drives::proto::DriveInfo& info) {
    infos_[info.name()] = info;
    memory_[info.name()] = std::make_unique<io::MemoryDevice>(info.capacity());
  }
  void SetGone(const std::string& name) { gone_[name] = true; }
  io::MemoryDevice& memory(const std::string& name) { return *memory_.at(name); }

  absl::StatusOr<std::vector<drives::proto::DriveInfo>> List() override {
    std::vector<drives::proto::DriveInfo> out;
    for (const auto& [name, info] : infos_) out.push_back(info);
    return out;
  }
  absl::StatusOr<std::unique_ptr<io::BlockDevice>> Open(const std::string& name) override {
    if (!memory_.count(name)) return absl::NotFoundError(absl::StrCat("no drive ", name));
    if (gone_[name]) return absl::UnavailableError(absl::StrCat("drive ", name, " is not there"));
    return std::make_unique<io::testing::FaultyDevice>(
        memory_.at(name).get(), [](const char*, uint64_t, uint64_t) { return absl::OkStatus(); });
  }

 private:
  std::map<std::string, drives::proto::DriveInfo> infos_;
  std::map<std::string, std::unique_ptr<io::MemoryDevice>> memory_;
  std::map<std::string, bool> gone_;
};

// A chosen drive named `name` over `device`, its journal (<dir>/<name>.journal) opened and replayed, serial id
// "SN-<name>".
inline std::unique_ptr<DriveState> ChosenDrive(const std::string& dir, const std::string& name,
                                               std::unique_ptr<io::BlockDevice> device) {
  auto d = std::make_unique<DriveState>();
  d->name = name;
  d->serial_id = "SN-" + name;
  d->prepared.name = name;
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir + "/" + name + ".journal");
  EXPECT_TRUE(journal.ok()) << journal.status();
  if (journal.ok()) d->journal = *std::move(journal);
  if (d->journal) ReplayJournal(Records(*d->journal), *d);
  d->device = std::move(device);
  return d;
}

// The steps of a drive's journal, in order ("formatted", "range", ...).
inline std::vector<std::string> JournalSteps(const std::string& dir, const std::string& name) {
  std::vector<std::string> out;
  absl::StatusOr<std::unique_ptr<Journal>> journal = Journal::Open(dir + "/" + name + ".journal");
  if (!journal.ok()) return out;
  for (const auto& r : Records(**journal)) out.push_back(r.step());
  return out;
}

// <staging>/images/<name> holding `bytes`.
inline void StageImage(const std::string& staging, const std::string& name, const std::string& bytes) {
  ASSERT_TRUE(file::MakeDirs(staging + "/images").ok());
  ASSERT_TRUE(file::WriteFileAtomic(staging + "/images/" + name, bytes, 0644).ok());
}

// Shipping details an admin in Utrecht would give: one drive by DHL, every return-address field filled in.
inline ShippingDetails UtrechtShipping(const std::string& tracking, const std::string& ship_date) {
  ShippingDetails d;
  d.carrier = "DHL";
  d.tracking_number = tracking;
  d.ship_date = ship_date;
  d.drive_count = 1;
  auto* a = &d.return_address;
  a->set_recipientname("Backup Ops");
  a->set_streetaddress1("Main St 1");
  a->set_city("Utrecht");
  a->set_postalcode("3511");
  a->set_countryorregion("Netherlands");
  a->set_phone("+31 30 000 0000");
  a->set_email("ops@example.com");
  return d;
}

}  // namespace vmb::offline::diskprep_testing

#endif  // VMBACKUP_OFFLINE_SEED_DISKPREP_DISKPREP_TESTING_H_
