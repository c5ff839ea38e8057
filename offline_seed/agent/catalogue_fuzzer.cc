// Fuzzes the staging catalogue (compressed JSON lines, or one plain JSON object) / recovery point entries as a
// restore reads them: an accepted set of entries never names a path outside the restore target (absolute, "..",
// ".", empty components, NUL) and never a path beneath a symlink or file entry.
#include <cstdint>
#include <cstdlib>
#include <set>

#include "offline_seed/agent/catalogue_file.h"
#include "offline_seed/agent/staging.pb.h"
#include "offline_seed/agent/tree.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<vmb::offline::proto::Catalogue> parsed = vmb::offline::ParseCatalogue(bytes);
  if (!parsed.ok()) return 0;
  const vmb::offline::proto::Catalogue& cat = *parsed;
  std::vector<vmb::offline::proto::Entry> entries(cat.entries().begin(), cat.entries().end());
  if (!vmb::offline::ValidateEntries(entries).ok()) return 0;
  std::set<std::string> not_dirs;
  for (const auto& e : entries) {
    if (e.type() != "dir") not_dirs.insert(e.path());
  }
  for (const auto& e : entries) {
    const std::string& p = e.path();
    if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos) std::abort();
    std::string padded = "/" + p + "/";
    if (padded.find("/../") != std::string::npos || padded.find("/./") != std::string::npos ||
        padded.find("//") != std::string::npos) {
      std::abort();
    }
    for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      if (not_dirs.count(p.substr(0, slash))) std::abort();
    }
  }
  return 0;
}
