// Fuzzes what the extension parses out of its public and protected settings: commandStartTimeUTCTicks and objectStr.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "snapshot/settings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<vmb::snapshot::CommandTicks> ticks = vmb::snapshot::ParseTicks(text);
  if (ticks.ok() && ticks->uncertainty < absl::ZeroDuration()) std::abort();
  absl::StatusOr<vmb::snapshot::ObjectStrContent> object = vmb::snapshot::ParseObjectStr(text);
  // (An accepted objectStr may list no disk: the public one carries only backupMetadata; the caller checks.)
  if (object.ok()) {
    for (const std::string& uri : object->blob_sas_uris) {
      // JSON-escaped slashes are always undone; a backslash before a slash can only come from an escaped backslash
      // (an escaped backslash, then "/"), which is legal: the fuzzer found one.
      if (uri.find("\\/") != std::string::npos && text.find("\\\\") == absl::string_view::npos) std::abort();
    }
  }
  return 0;
}
