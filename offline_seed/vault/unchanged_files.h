// Which files an incremental backup need not read again: those whose size, mtime, ctime, inode and mode match the
// previous recovery point's entry (the ctime catches a rewrite that put the old mtime back). Their chunks and extents
// are taken from that entry. The previous point's files are kept in a table on disk (index::Table, a temporary file),
// keyed by path, so a point of millions of files is not held in memory.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_UNCHANGED_FILES_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_UNCHANGED_FILES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/index/table.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::vault {

class UnchangedFiles {
 public:
  static absl::StatusOr<std::unique_ptr<UnchangedFiles>> Open();

  // Adds entries of the previous point: the files that carry an inode and a ctime (older points may lack them:
  // those files are read again); the rest are passed over.
  absl::Status Add(const std::vector<offline::proto::Entry>& previous);
  // When `file` has not changed since the previous point: fills its chunks, chunkOffset and extents from there and
  // returns true.
  // Thread-safe. A lookup that fails counts as changed (the file is read).
  bool Fill(offline::proto::Entry* file);
  // When `file`, a small file read again, has the `bytes` it had in the previous point (by its digest: only its owner,
  // mode, times or inode changed): fills its chunks, chunkOffset and digest from there (its place in its old segment)
  // and returns true. Thread-safe. A lookup that fails counts as changed (the file is packed again).
  bool SameBytes(offline::proto::Entry* file, absl::string_view bytes);

 private:
  explicit UnchangedFiles(std::unique_ptr<index::Table> table) : table_(std::move(table)) {}
  // The previous point's entry at `path`; nullopt when there is none or the lookup fails.
  std::optional<offline::proto::Entry> Previous(const std::string& path);
  std::unique_ptr<index::Table> table_;
};

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_UNCHANGED_FILES_H_
