// Fuzzes the VHD footer and dynamic-header decoders (the bytes come from a file an admin hands us): no crash, and
// what decodes re-encodes to something that decodes to the same fields.
#include <cstdint>
#include <cstdlib>

#include "simulators/vhd/vhd.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmb::vhd;
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A dynamic disk starts with a footer copy (512 bytes) and its dynamic header (1024 bytes).
  absl::StatusOr<Footer> footer = DecodeFooter(bytes.substr(0, 512));
  if (footer.ok()) {
    absl::StatusOr<Footer> again = DecodeFooter(EncodeFooter(*footer));
    if (!again.ok() || again->current_size != footer->current_size || again->type != footer->type ||
        again->data_offset != footer->data_offset) {
      std::abort();
    }
  }
  if (size > 512) {
    absl::StatusOr<DynamicHeader> header = DecodeDynamicHeader(bytes.substr(512, 1024));
    if (header.ok()) {
      absl::StatusOr<DynamicHeader> again = DecodeDynamicHeader(EncodeDynamicHeader(*header));
      if (!again.ok() || again->table_offset != header->table_offset ||
          again->max_table_entries != header->max_table_entries || again->block_size != header->block_size) {
        std::abort();
      }
    }
  }
  return 0;
}
