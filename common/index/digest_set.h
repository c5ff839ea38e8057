// A set of SHA-256 digests kept on disk, for sets too large for memory: a backup of millions of files or terabytes
// deduplicates its chunks against every chunk it has already kept, and that set grows with the data. It is one
// index::Table (SQLite from Debian; a B-tree keyed by the 32 digest bytes), so memory stays at SQLite's page cache
// (`cache_bytes`) however many digests it holds; the file holds about 45 bytes per digest.
//
// The file is a scratch index of one run, not a record: it is written without fsync and with its rollback journal in
// memory (a failed Insert leaves the set as it was; a crash leaves a file to be deleted and rebuilt, never trusted),
// and DigestSet::Open(path) with `fresh` starts it empty.
#ifndef VMBACKUP_COMMON_INDEX_DIGEST_SET_H_
#define VMBACKUP_COMMON_INDEX_DIGEST_SET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/index/table.h"

namespace vmb::index {

class DigestSet {
 public:
  // The table's options (cache_bytes, fresh); errors name it "chunk index" whatever `what` says.
  using Options = Table::Options;

  // The set in the file `path` (created; its folder must exist). "" keeps it in memory up to the page cache and
  // beyond that in a temporary file SQLite deletes when the set is closed (in the first writable of $SQLITE_TMPDIR,
  // $TMPDIR, /var/tmp, /usr/tmp, /tmp). Errors name the file and the way out.
  static absl::StatusOr<std::unique_ptr<DigestSet>> Open(const std::string& path, const Options& options);
  static absl::StatusOr<std::unique_ptr<DigestSet>> Open(const std::string& path) { return Open(path, Options()); }
  ~DigestSet();
  DigestSet(const DigestSet&) = delete;
  DigestSet& operator=(const DigestSet&) = delete;

  // Whether `sha256_hex` (64 hex digits, either case) is in the set; false for text that is not a digest. Safe to
  // call from several threads.
  absl::StatusOr<bool> Contains(absl::string_view sha256_hex);
  // Adds `sha256_hex` (in one transaction, in key order) and returns how many were not in the set yet. Text that is
  // not a digest is kInvalidArgument; on any error nothing of the call is added. Safe to call from several threads.
  absl::StatusOr<size_t> Insert(std::vector<std::string> sha256_hex);
  // Digests in the set.
  uint64_t size();

  // The set's file ("" for a temporary one).
  const std::string& path() const { return table_->path(); }

 private:
  explicit DigestSet(std::unique_ptr<Table> table) : table_(std::move(table)) {}

  std::unique_ptr<Table> table_;
};

// The 32 bytes of a digest given as 64 hex digits (either case); false when it is not one.
bool DigestBytes(absl::string_view sha256_hex, std::string* out);

}  // namespace vmb::index

#endif  // VMBACKUP_COMMON_INDEX_DIGEST_SET_H_
