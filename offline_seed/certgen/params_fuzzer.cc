// Fuzzes OfflineApplicationParams.xml: an accepted file has a subscription and a 40-hex-digit thumbprint (it names a
// file in the certificate store, so nothing else may pass).
#include <cstdint>
#include <cstdlib>

#include "offline_seed/certgen/certgen.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = vmb::offline::ParseOfflineApplicationParams(text, "OfflineApplicationParams.xml");
  if (p.ok()) {
    if (p->subscription_id.empty() || p->thumbprint.size() != 40) std::abort();
    for (char c : p->thumbprint) {
      if (!std::isxdigit(static_cast<unsigned char>(c))) std::abort();
    }
  }
  return 0;
}
