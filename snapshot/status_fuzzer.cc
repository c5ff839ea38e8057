// Fuzzes the status document (status file and status blob) as the backup service reads it back.
#include <cstdint>

#include "snapshot/status_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)vmb::snapshot::ParseStatus(text, "status blob");
  return 0;
}
