// Fuzzes .publishsettings files: every subscription accepted has an Id.
#include <cstdint>
#include <cstdlib>

#include "offline_seed/publish/publish_settings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto subs = vmb::offline::ParsePublishSettings(text, "fuzz.publishsettings");
  if (subs.ok()) {
    if (subs->empty()) std::abort();
    for (const auto& s : *subs) {
      if (s.id.empty()) std::abort();
    }
  }
  return 0;
}
