// Rebuilding a backed-up tree from its catalogue entries (a staging location's or a recovery point's): the entries
// are checked first (they come from outside: a damaged or tampered vault), then created so that no write can go
// through a link, then given their owners, xattrs, modes and times. Where file content comes from is the caller's.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_RESTORE_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_RESTORE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "offline_seed/agent/entry_meta.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::offline {

// Writes one file's stored data (its chunks in order, through ChunkSlicer) to `fd`, through StoredLayout (sparse
// files).
using ContentWriter = std::function<absl::Status(const proto::Entry& file, int fd)>;

// Checks entries read from a catalogue or a recovery point (outside input: a damaged or tampered vault) before
// anything is written: every path relative, without empty, "." or ".." components or NUL bytes, listed once, and
// never beneath anything but a folder (whichever is listed first); a known type; a hard link names an earlier file
// entry. kDataLoss naming the first bad entry. Every restore runs these checks, a tree of any size in bounded memory.
absl::Status ValidateEntries(const std::vector<proto::Entry>& entries);

// A restore goes into a new or empty folder only (in a folder with content, a symlink already there could lead
// a write outside it): kFailedPrecondition naming it otherwise.
absl::Status CheckRestoreTarget(const std::string& output);

// Rebuilds `entries` under `output` (root i as output/i; see CheckRestoreTarget) after ValidateEntries: folders, files
// (created at their full length, all hole, then their content from `write`, up to `threads` files at a time: holes stay
// holes), FIFOs and devices (devices only as root), hard links, symlinks last (so no write can go through one), then
// owners (as root), xattrs, modes and times deepest first (ApplyMeta). What could not be put back goes into `report`.
absl::Status RestoreTree(const std::vector<proto::Entry>& entries, const std::string& output,
                         const ContentWriter& write, int threads = 1, RestoreReport* report = nullptr);

// Fills the regular files of a restore, given all at once: each already exists, at its full length and all hole, at
// "<output>/<path>" (open it O_WRONLY | O_NOFOLLOW; no symlink exists yet; write through StoredLayout). For content
// read in large ranges that span files.
using ContentFiller = std::function<absl::Status(const std::vector<const proto::Entry*>& files)>;

// As RestoreTree, with the files created at their full length, all hole, and filled by `fill` up to 4,096 at a time.
absl::Status RestoreTreeFilled(const std::vector<proto::Entry>& entries, const std::string& output,
                               const ContentFiller& fill, RestoreReport* report = nullptr);

// The entries of a tree to restore: hands each to `each`, in the tree's order. A restore from a source reads it
// once, checking each entry and spooling it to a scratch file (entry_spool.h), then reads the spool three times (to
// create folders and files, links, metadata); it never holds the tree whole: a tree of millions of files restores in
// bounded memory (the paths checked are kept in a table on disk; folders get their metadata as their subtrees end,
// so the tree's order must be the walk's). The source is read exactly once, to its end, before anything is created:
// what the writers need (a chunk index) may be gathered as it goes.
using EntryEach = std::function<absl::Status(proto::Entry entry)>;
using EntrySource = std::function<absl::Status(const EntryEach& each)>;
absl::Status RestoreTreeFilled(const EntrySource& source, const std::string& output, const ContentFiller& fill,
                               RestoreReport* report = nullptr);
absl::Status RestoreTree(const EntrySource& source, const std::string& output, const ContentWriter& write,
                         int threads = 1, RestoreReport* report = nullptr);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_RESTORE_H_
