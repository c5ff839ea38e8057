#include "offline_seed/diskprep/verifier.h"

#include <algorithm>
#include <deque>
#include <future>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/recovery_password.h"
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

// Whether `data` (a range padded to 4 KiB) starts with the range `r` journaled.
bool Matches(absl::string_view data, const proto::DiskPrepRecord& r) {
  return crypto::Base16Encode(crypto::Md5(data.substr(0, r.length())), true) == r.md5();
}

// Every range read back in order, each MD5 checked on a thread of its own, at most `in_flight` at once.
absl::Status CheckRanges(DriveState& d, concurrent::BufferPool& buffers, size_t in_flight) {
  std::deque<std::future<const proto::DiskPrepRecord*>> checks;  // each: the range when it does not match
  auto check_one = [&]() -> absl::Status {
    const proto::DiskPrepRecord* bad = checks.front().get();
    checks.pop_front();
    if (bad == nullptr) return absl::OkStatus();
    while (!checks.empty()) checks.pop_front();  // waits for the rest
    return absl::DataLossError(absl::StrCat("verification failed on drive ", d.name, ": ", bad->blob(), " at ",
                                            bad->offset(), " does not match its MD5"));
  };
  for (const auto& r : d.ranges) {
    std::shared_ptr<std::string> back = buffers.Get();
    absl::Status rs = d.volume->Read(r.volumeoffset(), RoundUp4K(r.length()), back.get());
    if (!rs.ok()) return WithReattachHint(rs);
    checks.push_back(std::async(std::launch::async, [back, rp = &r]() -> const proto::DiskPrepRecord* {
      return Matches(*back, *rp) ? nullptr : rp;
    }));
    if (checks.size() >= std::max<size_t>(1, in_flight)) RETURN_IF_ERROR(check_one());
  }
  while (!checks.empty()) RETURN_IF_ERROR(check_one());
  return absl::OkStatus();
}

// As the datacenter will: the volume unlocked afresh from what is on the drive, the manifest area read back.
absl::Status CheckUnlocksAndManifest(DriveState& d, const std::string& area) {
  ASSIGN_OR_RETURN(crypto::RecoveryPassword password, crypto::RecoveryPassword::Parse(d.prepared.recovery_password));
  absl::StatusOr<std::unique_ptr<EncryptedVolume>> reopened = EncryptedVolume::Unlock(*d.device, password);
  std::string area_back;
  if (reopened.ok()) {
    absl::Status rs = (*reopened)->Read(0, area.size(), &area_back);
    if (!rs.ok()) return WithReattachHint(rs);
  }
  if (!reopened.ok() || area_back != area) {
    return absl::DataLossError(
        absl::StrCat("verification failed on drive ", d.name, ": ",
                     reopened.ok() ? "the manifest does not read back" : "the volume no longer unlocks from the drive",
                     " (a counterfeit or failing drive)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckLastDurableRange(DriveState& d) {
  if (d.verified || d.ranges.empty()) return absl::OkStatus();
  const auto& last = d.ranges.back();
  std::string back;
  absl::Status s = d.volume->Read(last.volumeoffset(), RoundUp4K(last.length()), &back);
  if (!s.ok()) return WithReattachHint(s);
  if (!Matches(back, last)) {
    return absl::DataLossError(absl::StrCat("drive ", d.name, ": the last journaled range (", last.blob(), " at ",
                                            last.offset(),
                                            ") does not read back; the drive lost acknowledged "
                                            "writes and cannot be trusted"));
  }
  return absl::OkStatus();
}

absl::Status VerifyDrive(DriveState& d, const std::string& area, concurrent::BufferPool& buffers,
                         size_t checks_in_flight) {
  RETURN_IF_ERROR(CheckRanges(d, buffers, checks_in_flight));
  RETURN_IF_ERROR(CheckUnlocksAndManifest(d, area));
  proto::DiskPrepRecord rec;
  rec.set_step("verified");
  RETURN_IF_ERROR(AppendRecord(*d.journal, rec));
  d.verified = true;
  return absl::OkStatus();
}

}  // namespace vmb::offline
