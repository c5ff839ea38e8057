#include "offline_seed/diskprep/drive_checks.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cli/sizes.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/status/status_macros.h"

namespace vmb::offline {

std::string DriveRefusal(const drives::proto::DriveInfo& d) {
  if (d.system()) return "it is the system disk";
  if (!d.attached()) return "it is not attached (or a partition of it is mounted)";
  if (d.writeprotected()) return "it is write-protected";
  if (d.interface() != "sata2" && d.interface() != "sata3") {
    return absl::StrCat("its interface is ", d.interface(), "; only internal SATA II/III drives are accepted");
  }
  if (d.media() == "ssd" && d.formfactor() != "2.5") return "SSDs must be 2.5\"";
  if (d.media() == "hdd" && d.formfactor() != "2.5" && d.formfactor() != "3.5") return "HDDs must be 2.5\" or 3.5\"";
  if (d.capacity() > kMaxDriveBytes) {
    return absl::StrFormat("it holds %.1f TB; drives over 10 TB are not accepted", d.capacity() / 1e12);
  }
  return "";
}

absl::Status ProbeCapacity(io::BlockDevice& device, const std::string& name) {
  constexpr uint64_t kUnit = 4096;
  const uint64_t units = device.size() / kUnit;
  if (units < 2) return absl::OkStatus();
  const std::string nonce = crypto::SecureRandom().Bytes(16);
  std::vector<uint64_t> at;
  for (uint64_t k = 0; k <= 32; ++k) at.push_back((units - 1) * k / 32 * kUnit);
  at.erase(std::unique(at.begin(), at.end()), at.end());
  auto marker = [&](uint64_t offset) {
    std::string m = absl::StrCat("vmbackup capacity probe ", offset, " ", crypto::Base16Encode(nonce, true));
    m.resize(kUnit, '\x5a');
    return m;
  };
  // From the end down: on a drive that wraps, what it really keeps is written last, so only the markers past its
  // real size are lost.
  for (auto it = at.rbegin(); it != at.rend(); ++it) RETURN_IF_ERROR(device.Write(*it, marker(*it)));
  RETURN_IF_ERROR(device.Flush());
  std::vector<bool> kept;
  for (uint64_t offset : at) {
    std::string back;
    RETURN_IF_ERROR(device.Read(offset, kUnit, &back));
    kept.push_back(back == marker(offset));
  }
  // The markers lost from some place to the end: it keeps less than it claims (what is written past its real size
  // wraps onto its start or is dropped). Lost markers elsewhere: it fails.
  size_t lost_from = kept.size();
  while (lost_from > 0 && !kept[lost_from - 1]) --lost_from;
  if (lost_from > 0 && lost_from < kept.size()) {
    return absl::DataLossError(absl::StrFormat(
        "drive %s is counterfeit: it holds at most %s (%u bytes) of the %s (%u bytes) it claims (what is written "
        "past that is lost); use another drive",
        name, cli::HumanBytes(at[lost_from]), at[lost_from], cli::HumanBytes(device.size()), device.size()));
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    if (!kept[i]) {
      return absl::DataLossError(absl::StrFormat(
          "drive %s reports %s but does not keep what is written at %s (a counterfeit or failing drive); use "
          "another drive",
          name, cli::HumanBytes(device.size()), cli::HumanBytes(at[i])));
    }
  }
  return absl::OkStatus();
}

}  // namespace vmb::offline
