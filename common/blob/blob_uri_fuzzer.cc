// Fuzzes SAS URI parsing: never crashes, and in the redacted form of an accepted URI every signature parameter of the
// query reads REDACTED.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "common/blob/blob_uri.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<vmb::blob::BlobUri> uri =
      vmb::blob::BlobUri::Parse(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!uri.ok()) return 0;
  std::string redacted = uri->Redacted();
  size_t query = redacted.find('?');
  if (query == std::string::npos) return 0;
  std::string lower = absl::AsciiStrToLower(redacted);
  for (size_t at = lower.find("sig=", query); at != std::string::npos; at = lower.find("sig=", at + 4)) {
    bool param_start = lower[at - 1] == '?' || lower[at - 1] == '&';
    if (param_start && redacted.compare(at + 4, 8, "REDACTED") != 0) std::abort();
  }
  return 0;
}
