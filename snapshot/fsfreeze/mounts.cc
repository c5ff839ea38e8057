#include "snapshot/fsfreeze/mounts.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace vmb::snapshot::fsfreeze {
namespace {

std::string Unescape(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::vector<Mount> ParseMounts(absl::string_view text) {
  std::vector<Mount> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 3) continue;
    out.push_back({Unescape(f[0]), Unescape(f[1]), std::string(f[2])});
  }
  return out;
}

std::vector<std::string> FreezeOrder(const std::vector<Mount>& mounts, const std::vector<std::string>& skip) {
  static const std::set<std::string> kTypes = {"ext3", "ext4", "xfs", "btrfs"};
  std::vector<std::string> order;
  std::set<std::string> devices;
  bool root = false;
  for (const Mount& m : mounts) {
    if (!kTypes.count(m.fs_type)) continue;
    if (absl::StartsWith(m.device, "/dev/loop")) continue;
    if (m.mount_point == "/mnt/resource" || m.mount_point == "/mnt") continue;  // the resource (temp) disk
    if (std::find(skip.begin(), skip.end(), m.mount_point) != skip.end()) continue;
    if (!devices.insert(m.device).second) continue;  // bind mounts and btrfs subvolumes: freeze a device once
    if (m.mount_point == "/") {
      root = true;
      continue;
    }
    order.push_back(m.mount_point);
  }
  // Deeper mounts first, so a parent is never frozen while a child mount below it still takes writes.
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') > std::count(b.begin(), b.end(), '/');
  });
  if (root) order.push_back("/");
  return order;
}

}  // namespace vmb::snapshot::fsfreeze
