// Fuzzes diskprep's journal records: every record kept passes its MD5, lies in the good prefix, holds no newline.
#include <cstdint>
#include <cstdlib>

#include "offline_seed/journal/journal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<vmb::offline::Journal::Parsed> p = vmb::offline::Journal::Parse(text, "fuzz.journal");
  if (!p.ok()) return 0;
  if (p->good_bytes > text.size()) std::abort();
  uint64_t bytes = 0;
  for (const std::string& r : p->records) {
    if (r.find('\n') != std::string::npos) std::abort();
    bytes += 33 + r.size() + 1;
  }
  if (bytes != p->good_bytes) std::abort();
  return 0;
}
