// Fuzzes the DriveManifest parser: any input is parsed without crashing, and a manifest it accepts serializes and
// parses back to the same thing.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "offline_seed/manifest/drive_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmb::offline::manifest;
  absl::StatusOr<DriveManifest> m = Parse(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!m.ok()) return 0;
  absl::StatusOr<std::string> xml = Serialize(*m);
  if (!xml.ok()) std::abort();  // Parse validated it, so it must serialize
  absl::StatusOr<DriveManifest> again = Parse(*xml);
  if (!again.ok() || again->drive_id != m->drive_id || again->blobs.size() != m->blobs.size()) std::abort();
  for (size_t i = 0; i < m->blobs.size(); ++i) {
    if (again->blobs[i].blob_path != m->blobs[i].blob_path ||
        again->blobs[i].ranges.size() != m->blobs[i].ranges.size()) {
      std::abort();
    }
  }
  return 0;
}
