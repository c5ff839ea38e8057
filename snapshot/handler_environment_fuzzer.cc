// Fuzzes HandlerEnvironment.json as the extension reads it: an accepted file names every folder it needs.
#include <cstdint>
#include <cstdlib>

#include "snapshot/settings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<vmb::snapshot::HandlerFolders> f =
      vmb::snapshot::ParseHandlerEnvironment(text, "HandlerEnvironment.json");
  if (f.ok() && (f->log_folder.empty() || f->config_folder.empty() || f->status_folder.empty())) std::abort();
  return 0;
}
