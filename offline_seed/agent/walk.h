// Enumerating the source folders of a backup: every entry (files, folders, symlinks, hard links, FIFOs, device
// nodes) with what entry_meta reads of it, into catalogue entries; what cannot be read is noted, not an error.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_WALK_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_WALK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::offline {

struct SourceTree {
  std::vector<std::string> roots;                     // absolute, canonical paths of the source folders
  std::vector<proto::Entry> entries;                  // every entry kept; paths "<root index>/..."
  std::vector<std::pair<std::string, size_t>> files;  // (full path, index in entries) of regular files
  uint64_t bytes = 0;                                 // of all regular files
  uint64_t allocated = 0;                             // of their data (holes not counted)
  std::vector<proto::Problem> problems;               // see staging.proto
};

// Whether a backup with these problems is incomplete (an entry could not be read; the exit status says so). The
// other kinds are notes.
bool Incomplete(const std::vector<proto::Problem>& problems);

// A path as text for people and JSON: valid UTF-8 as it is, other bytes as \xNN.
std::string DisplayPath(absl::string_view path);

// Appends a problem (kind: "vanished", "unreadable", "changed" or "skipped"; see staging.proto) about `path`.
void NoteProblem(const std::string& path, const char* kind, const std::string& detail,
                 std::vector<proto::Problem>* problems);

// Walks each source folder (entries sorted by name): files, folders, symlinks, hard links (a second name of a file
// is a "hardlink" entry naming the first), FIFOs and device nodes, each with its owner, mode, time and extended
// attributes; sockets are skipped and noted. An entry that vanishes or cannot be read is noted in `problems`, not an
// error. kInvalidArgument when a source is not a folder or `exclude` (the staging location, say) lies inside one.
absl::StatusOr<SourceTree> WalkSources(const std::vector<std::string>& sources, const std::string& exclude = "");

// Each entry as the walk reaches it (`full`: its path on this computer); false stops the walk.
using EntrySink = std::function<bool(proto::Entry entry, const std::string& full)>;

// The same walk, streamed: every entry goes to `sink` in walk order instead of into the tree (whose entries and
// files stay empty; roots, bytes, allocated and problems are filled), so a walk of millions of entries needs no
// memory for them.
absl::StatusOr<SourceTree> WalkSources(const std::vector<std::string>& sources, const std::string& exclude,
                                       const EntrySink& sink);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_WALK_H_
