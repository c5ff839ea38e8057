#include "common/index/digest_set.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace vmb::index {

bool DigestBytes(absl::string_view sha256_hex, std::string* out) {
  if (sha256_hex.size() != 64) return false;
  for (char c : sha256_hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  *out = absl::HexStringToBytes(sha256_hex);
  return out->size() == 32;
}

absl::StatusOr<std::unique_ptr<DigestSet>> DigestSet::Open(const std::string& path, const Options& options) {
  if (options.fresh && !path.empty()) {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
      std::string f = path + suffix;
      if (::unlink(f.c_str()) != 0 && errno != ENOENT) {
        return absl::PermissionDeniedError(absl::StrCat("cannot remove the old index ", f, ": ", std::strerror(errno)));
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
        absl::StrCat("cannot open the chunk index ", path.empty() ? "(temporary)" : path, ": ", why));
  }
  std::unique_ptr<DigestSet> set(new DigestSet(path, db));
  {
    MutexLock l(&set->mu_);
    // A scratch index: no fsync and the rollback journal in memory (one Insert's pages: a failed Insert leaves the
    // set as it was), no memory map (its pages would count as the process's memory); the page cache is the memory
    // it may use.
    for (const std::string& sql :
         {std::string("PRAGMA journal_mode=MEMORY"), std::string("PRAGMA synchronous=OFF"),
          std::string("PRAGMA locking_mode=EXCLUSIVE"), std::string("PRAGMA mmap_size=0"),
          std::string("PRAGMA temp_store=FILE"),
          absl::StrCat("PRAGMA cache_size=-", std::max<size_t>(1024, options.cache_bytes / 1024)),
          std::string("CREATE TABLE IF NOT EXISTS digests(d BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID")}) {
      if (absl::Status s = set->Exec(sql.c_str()); !s.ok()) return s;
    }
  }
  if (absl::Status s = set->Prepare(); !s.ok()) return s;
  if (!options.fresh) {
    MutexLock l(&set->mu_);
    sqlite3_stmt* count = nullptr;
    if (sqlite3_prepare_v2(set->db_, "SELECT count(*) FROM digests", -1, &count, nullptr) != SQLITE_OK ||
        sqlite3_step(count) != SQLITE_ROW) {
      sqlite3_finalize(count);
      return set->Error("count");
    }
    set->size_ = static_cast<uint64_t>(sqlite3_column_int64(count, 0));
    sqlite3_finalize(count);
  }
  return set;
}

DigestSet::~DigestSet() {
  MutexLock l(&mu_);
  sqlite3_finalize(contains_);
  sqlite3_finalize(insert_);
  sqlite3_close(db_);
}

absl::Status DigestSet::Prepare() {
  MutexLock l(&mu_);
  if (sqlite3_prepare_v2(db_, "SELECT 1 FROM digests WHERE d = ?1", -1, &contains_, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  if (sqlite3_prepare_v2(db_, "INSERT OR IGNORE INTO digests(d) VALUES (?1)", -1, &insert_, nullptr) != SQLITE_OK) {
    return Error("prepare");
  }
  return absl::OkStatus();
}

absl::Status DigestSet::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return absl::OkStatus();
  std::string why = err != nullptr ? err : "unknown error";
  sqlite3_free(err);
  return absl::UnavailableError(
      absl::StrCat("chunk index ", path_.empty() ? "(temporary)" : path_, ": ", sql, ": ", why));
}

absl::Status DigestSet::Error(const std::string& what) {
  // A full or unwritable folder is the likely cause: say where the file is, so the way out is plain.
  return absl::UnavailableError(absl::StrCat(
      "chunk index ", path_.empty() ? "(temporary)" : path_, ": ", what, ": ", sqlite3_errmsg(db_),
      path_.empty() ? "; it is a temporary file in $SQLITE_TMPDIR, else $TMPDIR, else /var/tmp: point one of them at "
                      "a local folder with free space (about 40 bytes per chunk)"
                    : "; check that its folder is writable and has free space (about 40 bytes per chunk)"));
}

absl::StatusOr<bool> DigestSet::Contains(absl::string_view sha256_hex) {
  std::string key;
  if (!DigestBytes(sha256_hex, &key)) return false;
  MutexLock l(&mu_);
  sqlite3_reset(contains_);
  sqlite3_bind_blob(contains_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  int rc = sqlite3_step(contains_);
  sqlite3_reset(contains_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error("lookup");
}

absl::StatusOr<size_t> DigestSet::Insert(std::vector<std::string> sha256_hex) {
  std::vector<std::string> keys(sha256_hex.size());
  for (size_t i = 0; i < sha256_hex.size(); ++i) {
    if (!DigestBytes(sha256_hex[i], &keys[i])) {
      return absl::InvalidArgumentError(absl::StrCat("not a SHA-256 digest: \"", sha256_hex[i].substr(0, 80), "\""));
    }
  }
  std::sort(keys.begin(), keys.end());  // in key order: each B-tree page is visited once per call
  MutexLock l(&mu_);
  if (absl::Status s = Exec("BEGIN"); !s.ok()) return s;
  size_t added = 0;
  for (const std::string& k : keys) {
    sqlite3_reset(insert_);
    sqlite3_bind_blob(insert_, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
    if (sqlite3_step(insert_) != SQLITE_DONE) {
      absl::Status failed = Error("insert");
      sqlite3_reset(insert_);
      (void)Exec("ROLLBACK");
      return failed;
    }
    added += static_cast<size_t>(sqlite3_changes(db_));
  }
  sqlite3_reset(insert_);
  if (absl::Status s = Exec("COMMIT"); !s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  size_ += added;
  return added;
}

uint64_t DigestSet::size() {
  MutexLock l(&mu_);
  return size_;
}

}  // namespace vmb::index
