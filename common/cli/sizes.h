// Sizes as admins type them on command lines: "1073741824", "64M", "10G", "2T" (binary multiples).
#ifndef VMBACKUP_COMMON_CLI_SIZES_H_
#define VMBACKUP_COMMON_CLI_SIZES_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace vmb::cli {

inline bool ParseSize(std::string text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t mult = 1;
  char last = absl::ascii_toupper(static_cast<unsigned char>(text.back()));
  if (last == 'K' || last == 'M' || last == 'G' || last == 'T') {
    mult = last == 'K' ? 1ull << 10 : last == 'M' ? 1ull << 20 : last == 'G' ? 1ull << 30 : 1ull << 40;
    text.pop_back();
  }
  uint64_t v = 0;
  if (!absl::SimpleAtoi(text, &v) || v > UINT64_MAX / mult) return false;
  *out = v * mult;
  return true;
}

// Bytes as people read them: decimal units, as drive makers and throughput figures use ("812 B", "1.2 MB",
// "3.40 GB", "2.10 TB").
inline std::string HumanBytes(uint64_t bytes) {
  char buf[32];
  if (bytes >= 1000000000000ull) {
    std::snprintf(buf, sizeof(buf), "%.2f TB", bytes / 1e12);
  } else if (bytes >= 1000000000ull) {
    std::snprintf(buf, sizeof(buf), "%.2f GB", bytes / 1e9);
  } else if (bytes >= 1000000ull) {
    std::snprintf(buf, sizeof(buf), "%.1f MB", bytes / 1e6);
  } else if (bytes >= 1000ull) {
    std::snprintf(buf, sizeof(buf), "%.1f KB", bytes / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

}  // namespace vmb::cli

#endif  // VMBACKUP_COMMON_CLI_SIZES_H_
