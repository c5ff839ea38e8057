// Fuzzes the Azure error body parser and the status built from a failed response: never crashes, never an OK status
// for a failure, and the HTTP status always travels with it.
#include <cstdint>
#include <cstdlib>

#include "common/status/http_status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  (void)vmb::ParseAzureErrorXml(body);
  int http_status = size ? 400 + data[0] % 200 : 500;
  absl::Status s = vmb::StatusFromHttpResponse("Get Blob", http_status, body);
  if (s.ok()) std::abort();
  std::optional<int> carried = vmb::HttpStatusOf(s);
  if (!carried || *carried != http_status) std::abort();
  return 0;
}
