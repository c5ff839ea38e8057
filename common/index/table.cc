#include "common/index/table.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace vmb::index {
namespace {

// Column `col` of the row `stmt` stands on, as bytes ("" for NULL or an empty blob).
std::string ColumnBytes(sqlite3_stmt* stmt, int col) {
  const void* bytes = sqlite3_column_blob(stmt, col);
  return bytes == nullptr ? "" : std::string(static_cast<const char*>(bytes), sqlite3_column_bytes(stmt, col));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Table>> Table::Open(const std::string& path, const Options& options) {
  if (options.fresh && !path.empty()) {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      std::string f = path + suffix;
      if (::unlink(f.c_str()) != 0 && errno != ENOENT) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot remove the old ", options.what, " ", f, ": ", std::strerror(errno)));
      }
    }
  }
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return absl::UnavailableError(
        absl::StrCat("cannot open the ", options.what, " ", path.empty() ? "(temporary)" : path, ": ", why));
  }
  std::unique_ptr<Table> table(new Table(path, options, db));
  if (absl::Status s = table->Setup(/*count=*/!options.fresh); !s.ok()) return s;
  return table;
}

absl::Status Table::Setup(bool count) {
  MutexLock l(&mu_);
  // A scratch index: no fsync and the rollback journal in memory (one Put's pages: a failed Put leaves the table as
  // it was), no memory map (its pages would count as the process's memory); the page cache is the memory it may use.
  for (const std::string& sql :
       {std::string("PRAGMA journal_mode=MEMORY"), std::string("PRAGMA synchronous=OFF"),
        std::string("PRAGMA locking_mode=EXCLUSIVE"), std::string("PRAGMA mmap_size=0"),
        std::string("PRAGMA temp_store=FILE"),
        absl::StrCat("PRAGMA cache_size=-", std::max<size_t>(1024, options_.cache_bytes / 1024)),
        std::string("CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY NOT NULL, v BLOB) WITHOUT ROWID")}) {
    if (absl::Status s = Exec(sql.c_str()); !s.ok()) return s;
  }
  if (sqlite3_prepare_v2(db_, "SELECT v FROM kv WHERE k = ?1", -1, &get_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO kv(k, v) VALUES (?1, ?2)", -1, &put_, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db_, "SELECT k FROM kv WHERE k >= ?1 AND k < ?2 ORDER BY k LIMIT 1", -1, &first_, nullptr) !=
          SQLITE_OK) {
    return Error("prepare");
  }
  if (!count) return absl::OkStatus();
  sqlite3_stmt* rows = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT count(*) FROM kv", -1, &rows, nullptr) != SQLITE_OK ||
      sqlite3_step(rows) != SQLITE_ROW) {
    sqlite3_finalize(rows);
    return Error("count");
  }
  size_ = static_cast<uint64_t>(sqlite3_column_int64(rows, 0));
  sqlite3_finalize(rows);
  return absl::OkStatus();
}

Table::~Table() {
  MutexLock l(&mu_);
  sqlite3_finalize(get_);
  sqlite3_finalize(put_);
  sqlite3_finalize(first_);
  sqlite3_close(db_);
}

absl::Status Table::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return absl::OkStatus();
  std::string why = err != nullptr ? err : "unknown error";
  sqlite3_free(err);
  return absl::UnavailableError(
      absl::StrCat(options_.what, " ", path_.empty() ? "(temporary)" : path_, ": ", sql, ": ", why));
}

absl::Status Table::Error(const std::string& what) {
  // A full or unwritable folder is the likely cause: say where the file is, so the way out is plain.
  const std::string size = absl::StrCat("about ", options_.row_bytes, " bytes per row");
  return absl::UnavailableError(absl::StrCat(
      options_.what, " ", path_.empty() ? "(temporary)" : path_, ": ", what, ": ", sqlite3_errmsg(db_),
      path_.empty() ? absl::StrCat("; it is a temporary file in $SQLITE_TMPDIR, else $TMPDIR, else /var/tmp: point one "
                                   "of them at a local folder with free space (",
                                   size, ")")
                    : absl::StrCat("; check that its folder is writable and has free space (", size, ")")));
}

absl::StatusOr<std::optional<std::string>> Table::Get(absl::string_view key) {
  MutexLock l(&mu_);
  sqlite3_reset(get_);
  sqlite3_bind_blob(get_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  int rc = sqlite3_step(get_);
  std::optional<std::string> value;
  if (rc == SQLITE_ROW) value.emplace(ColumnBytes(get_, 0));
  sqlite3_reset(get_);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return value;
  return Error("lookup");
}

absl::StatusOr<std::optional<std::string>> Table::FirstKeyIn(absl::string_view from, absl::string_view to) {
  MutexLock l(&mu_);
  sqlite3_reset(first_);
  sqlite3_bind_blob(first_, 1, from.data(), static_cast<int>(from.size()), SQLITE_STATIC);
  sqlite3_bind_blob(first_, 2, to.data(), static_cast<int>(to.size()), SQLITE_STATIC);
  int rc = sqlite3_step(first_);
  std::optional<std::string> key;
  if (rc == SQLITE_ROW) key.emplace(ColumnBytes(first_, 0));
  sqlite3_reset(first_);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return key;
  return Error("range lookup");
}

absl::StatusOr<size_t> Table::Put(std::vector<Row> rows) {
  // In key order, so each B-tree page is visited once per call; stable, so of one key given twice the first wins.
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.first < b.first; });
  MutexLock l(&mu_);
  if (absl::Status s = Exec("BEGIN"); !s.ok()) return s;
  size_t added = 0;
  for (const Row& r : rows) {
    sqlite3_reset(put_);
    sqlite3_bind_blob(put_, 1, r.first.data(), static_cast<int>(r.first.size()), SQLITE_STATIC);
    if (r.second.empty()) {
      sqlite3_bind_null(put_, 2);
    } else {
      sqlite3_bind_blob(put_, 2, r.second.data(), static_cast<int>(r.second.size()), SQLITE_STATIC);
    }
    if (sqlite3_step(put_) != SQLITE_DONE) {
      absl::Status failed = Error("insert");
      sqlite3_reset(put_);
      (void)Exec("ROLLBACK");
      return failed;
    }
    added += static_cast<size_t>(sqlite3_changes(db_));
  }
  sqlite3_reset(put_);
  if (absl::Status s = Exec("COMMIT"); !s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  size_ += added;
  return added;
}

uint64_t Table::size() {
  MutexLock l(&mu_);
  return size_;
}

}  // namespace vmb::index
