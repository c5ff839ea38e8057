// A table of byte keys to byte values kept on disk, for indexes too large for memory: where each of a vault's
// millions of chunks lives, the previous backup's entry for each of millions of paths. It is one SQLite table (SQLite
// from Debian; a B-tree keyed by the key bytes), so memory stays at SQLite's page cache (`cache_bytes`) however many
// rows it holds.
//
// The file is a scratch index of one run, not a record: it is written without fsync and with its rollback journal in
// memory (a failed Put leaves the table as it was; a crash leaves a file to be deleted and rebuilt, never trusted),
// and Open(path) with `fresh` starts it empty.
#ifndef VMBACKUP_COMMON_INDEX_TABLE_H_
#define VMBACKUP_COMMON_INDEX_TABLE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/concurrent/mutex.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vmb::index {

class Table {
 public:
  struct Options {
    size_t cache_bytes = 16u << 20;  // SQLite's page cache: the memory the table uses, whatever its size
    bool fresh = true;               // remove what the file held (a scratch index from an earlier run)
    std::string what = "index";      // names the table in errors ("chunk index")
    std::string row_bytes = "40";    // about how much each row takes on disk, for the message when the disk is full
  };
  using Row = std::pair<std::string, std::string>;  // key, value

  // The table in the file `path` (created; its folder must exist). "" keeps it in memory up to the page cache and
  // beyond that in a temporary file SQLite deletes when the table is closed (in the first writable of $SQLITE_TMPDIR,
  // $TMPDIR, /var/tmp, /usr/tmp, /tmp). Errors name the file and the way out.
  static absl::StatusOr<std::unique_ptr<Table>> Open(const std::string& path, const Options& options);
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // The value kept for `key`, or nullopt. Safe to call from several threads.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key);
  // Adds the rows whose keys are not in the table yet (a key already there keeps its value; of one key given twice,
  // the first), in one transaction, in key order; how many were added. On any error nothing of the call is added.
  // Safe to call from several threads.
  absl::StatusOr<size_t> Put(std::vector<Row> rows);
  // The smallest key in [from, to), or nullopt when there is none (keys compare as bytes). Thread-safe.
  absl::StatusOr<std::optional<std::string>> FirstKeyIn(absl::string_view from, absl::string_view to);
  // Rows in the table.
  uint64_t size();

  // The table's file ("" for a temporary one).
  const std::string& path() const { return path_; }

 private:
  Table(std::string path, Options options, sqlite3* db)
      : path_(std::move(path)), options_(std::move(options)), db_(db) {}
  absl::Status Setup(bool count);
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Error(const std::string& what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const Options options_;
  Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  sqlite3_stmt* get_ ABSL_GUARDED_BY(mu_) = nullptr;
  sqlite3_stmt* put_ ABSL_GUARDED_BY(mu_) = nullptr;
  sqlite3_stmt* first_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vmb::index

#endif  // VMBACKUP_COMMON_INDEX_TABLE_H_
