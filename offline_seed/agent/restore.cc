#include "offline_seed/agent/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/file/file_util.h"
#include "common/index/table.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/entry_spool.h"

namespace vmb::offline {
namespace {

absl::Status Tampered(absl::string_view path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("the catalogue is damaged or was tampered with: entry \"",
                                          absl::CHexEscape(path), "\" ", why,
                                          "; nothing was restored (restore another recovery point)"));
}

// One letter per entry type, as the checker's index keeps it.
char TypeLetter(const std::string& type) {
  static const std::map<std::string, char> kTypes = {{"file", 'f'},     {"dir", 'd'},  {"symlink", 's'},
                                                     {"hardlink", 'h'}, {"fifo", 'p'}, {"chardev", 'c'},
                                                     {"blockdev", 'b'}};
  auto it = kTypes.find(type);
  return it == kTypes.end() ? '\0' : it->second;
}

// Checks a tree's entries one at a time, in any order and of any number, against those before it: every path
// relative, without empty, "." or ".." components or NUL bytes, listed once, never beneath anything but a folder
// (whichever comes first), a known type, a hard link naming an earlier file entry. The paths seen are kept in a
// table on disk (index::Table) a batch at a time, with the batch itself in memory.
class TreeChecker {
 public:
  static absl::StatusOr<std::unique_ptr<TreeChecker>> Open() {
    index::Table::Options o;
    o.what = "index of the restored paths";
    o.row_bytes = "60";
    ASSIGN_OR_RETURN(std::unique_ptr<index::Table> table, index::Table::Open("", o));
    return std::unique_ptr<TreeChecker>(new TreeChecker(std::move(table)));
  }

  absl::Status Add(const proto::Entry& e) {
    const char type = TypeLetter(e.type());
    if (type == '\0') {
      return Tampered(e.path(), absl::StrCat("has the unknown type \"", absl::CHexEscape(e.type()), "\""));
    }
    if (type == 'h') {
      ASSIGN_OR_RETURN(char first, Lookup(e.target()));
      if (first != 'f') return Tampered(e.path(), "is a hard link to no earlier file entry");
    }
    const std::string& path = e.path();
    if (path.empty() || path.front() == '/') return Tampered(path, "is not a relative path");
    if (path.find('\0') != std::string::npos || e.target().find('\0') != std::string::npos) {
      return Tampered(path, "holds a NUL byte");
    }
    for (size_t start = 0;;) {
      size_t slash = path.find('/', start);
      absl::string_view part =
          absl::string_view(path).substr(start, slash == std::string::npos ? absl::string_view::npos : slash - start);
      if (part.empty() || part == "." || part == "..") {
        return Tampered(path, "has an empty, \".\" or \"..\" component");
      }
      if (slash == std::string::npos) break;
      ASSIGN_OR_RETURN(char parent, Lookup(path.substr(0, slash)));
      if (parent != '\0' && parent != 'd') return Tampered(path, "lies beneath a symlink or a file");
      start = slash + 1;
    }
    if (type != 'd') {  // nothing listed so far may lie beneath it ('/' sorts just before '0')
      const std::string from = path + "/", to = path + "0";
      auto in_batch = batch_.lower_bound(from);
      if (in_batch != batch_.end() && in_batch->first < to) {
        return Tampered(in_batch->first, "lies beneath a symlink or a file");
      }
      ASSIGN_OR_RETURN(std::optional<std::string> beneath, table_->FirstKeyIn(from, to));
      if (beneath.has_value()) return Tampered(*beneath, "lies beneath a symlink or a file");
    }
    if (!batch_.emplace(path, type).second) return Tampered(path, "is listed twice");
    if (type == 'd') RememberDir(path);
    return batch_.size() < kBatch ? absl::OkStatus() : Flush();
  }

  // After the last entry.
  absl::Status Flush() {
    std::vector<index::Table::Row> rows;
    rows.reserve(batch_.size());
    // The type letter, then the batch's number: a row that kept an earlier batch's number was listed before.
    const std::string number = std::to_string(++batches_);
    for (const auto& [path, type] : batch_) rows.emplace_back(path, std::string(1, type) + number);
    ASSIGN_OR_RETURN(size_t added, table_->Put(rows));
    if (added != rows.size()) {  // a path of this batch was listed in an earlier one: find it to name it
      for (const index::Table::Row& row : rows) {
        ASSIGN_OR_RETURN(std::optional<std::string> kept, table_->Get(row.first));
        if (kept.has_value() && *kept != row.second) return Tampered(row.first, "is listed twice");
      }
    }
    batch_.clear();
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kBatch = 4096;
  explicit TreeChecker(std::unique_ptr<index::Table> table) : table_(std::move(table)) {}

  // The type letter of `path` if it was listed ('\0' if not).
  absl::StatusOr<char> Lookup(const std::string& path) {
    if (dirs_.count(path) > 0) return 'd';  // listed once, as a folder: for good
    auto in_batch = batch_.find(path);
    if (in_batch != batch_.end()) return in_batch->second;
    ASSIGN_OR_RETURN(std::optional<std::string> kept, table_->Get(path));
    if (!kept.has_value() || kept->empty()) return '\0';
    if (kept->front() == 'd') RememberDir(path);
    return kept->front();
  }
  // Folders looked up again and again (every entry's parents): kept in memory, a few thousand at most.
  void RememberDir(const std::string& path) {
    if (dirs_.size() >= kBatch) dirs_.clear();
    dirs_.insert(path);
  }

  std::unique_ptr<index::Table> table_;
  std::map<std::string, char> batch_;  // path -> type letter, not yet in the table
  std::set<std::string> dirs_;
  uint64_t batches_ = 0;
};

// Creates one folder; its parents too when the tree did not list them before it (0700 until their metadata comes).
absl::Status CreateFolder(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return absl::OkStatus();
  if (errno != ENOENT) return file::ErrnoStatus(errno, "cannot create", path);
  RETURN_IF_ERROR(file::MakeDirs(path, 0700));
  return absl::OkStatus();
}

// A FIFO or device node (devices only as root: otherwise noted in `report`).
absl::Status CreateSpecial(const proto::Entry& e, const std::string& path, RestoreReport* report) {
  if (e.type() == "fifo") {
    if (::mkfifo(path.c_str(), 0600) != 0) return file::ErrnoStatus(errno, "cannot create the FIFO", path);
    return absl::OkStatus();
  }
  mode_t kind = e.type() == "chardev" ? S_IFCHR : S_IFBLK;
  if (::mknod(path.c_str(), kind | 0600, static_cast<dev_t>(e.rdev())) != 0) {
    if (errno != EPERM) return file::ErrnoStatus(errno, "cannot create the device node", path);
    report->not_restored.push_back(absl::StrCat(path, ": the device node (only root can create one)"));
  }
  return absl::OkStatus();
}

absl::Status CreateLink(const proto::Entry& e, const std::string& output) {
  std::string path = output + "/" + e.path();
  if (e.type() == "hardlink") {
    std::string first = output + "/" + e.target();
    if (::link(first.c_str(), path.c_str()) != 0) return file::ErrnoStatus(errno, "cannot create the hard link", path);
  } else if (::symlink(e.target().c_str(), path.c_str()) != 0) {
    return file::ErrnoStatus(errno, "cannot create link", path);
  }
  return absl::OkStatus();
}

// Creates a restored file at its full length, all hole (its data is written into it afterwards).
absl::StatusOr<int> CreateRestoredFile(const proto::Entry& e, const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return file::ErrnoStatus(errno, "cannot create", path);
  if (::ftruncate(fd, static_cast<off_t>(e.size())) != 0) {
    absl::Status s = file::ErrnoStatus(errno, "cannot set the length of", path);
    ::close(fd);
    return s;
  }
  return fd;
}

// Creates one file and writes its content.
absl::Status RestoreOneFile(const proto::Entry& e, const std::string& output, const ContentWriter& write) {
  ASSIGN_OR_RETURN(int fd, CreateRestoredFile(e, output + "/" + e.path()));
  absl::Status s = write(e, fd);
  // Start this file's write-back now, while other files are still coming in; the flush at the end then has little
  // left to wait for.
  if (s.ok()) ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  ::close(fd);
  return s;
}

// Restores `files` on `threads` threads, each taking the next file; the first error stops them all.
absl::Status RestoreFilesInParallel(const std::vector<const proto::Entry*>& files, const std::string& output,
                                    const ContentWriter& write, int threads) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  absl::Status result;
  auto worker = [&] {
    for (size_t k = next.fetch_add(1); k < files.size(); k = next.fetch_add(1)) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!result.ok()) return;
      }
      absl::Status s = RestoreOneFile(*files[k], output, write);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (result.ok()) result = s;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return result;
}

// One flush of the whole file system at the end instead of one per file (a restore cut short is simply run again
// into an empty folder).
absl::Status FlushFileSystem(const std::string& output) {
  int dir = ::open(output.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return file::ErrnoStatus(errno, "cannot open", output);
  int synced = ::syncfs(dir);
  int sync_errno = errno;
  ::close(dir);
  if (synced != 0) return file::ErrnoStatus(sync_errno, "cannot flush the restored files in", output);
  return absl::OkStatus();
}

constexpr size_t kFileBatch = 4096;

// Folders, files (a batch at a time, their content from `content`), FIFOs and devices, in the tree's order.
absl::Status CreateEntries(const EntrySource& source, const std::string& output, const ContentFiller& content,
                           RestoreReport* report) {
  std::vector<proto::Entry> files;
  auto fill = [&]() -> absl::Status {
    std::vector<const proto::Entry*> batch;
    batch.reserve(files.size());
    for (const proto::Entry& f : files) batch.push_back(&f);
    absl::Status filled = batch.empty() ? absl::OkStatus() : content(batch);
    files.clear();
    return filled;
  };
  RETURN_IF_ERROR(source([&](proto::Entry e) -> absl::Status {
    if (e.type() == "dir") return CreateFolder(output + "/" + e.path());
    if (e.type() == "file") {
      files.push_back(std::move(e));
      return files.size() < kFileBatch ? absl::OkStatus() : fill();
    }
    if (e.type() == "fifo" || e.type() == "chardev" || e.type() == "blockdev") {
      return CreateSpecial(e, output + "/" + e.path(), report);
    }
    return absl::OkStatus();
  }));
  return fill();
}

// Whether `path` lies beneath the folder `dir`.
bool Beneath(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path[dir.size()] == '/' && path.compare(0, dir.size(), dir) == 0;
}

// Owners, xattrs, modes and times last: a folder's once everything beneath it has them (when its subtree ends in
// the tree's order), so creating children does not disturb their parents. A hard link shares its first name's
// inode, which gets them.
absl::Status ApplyAllMeta(const EntrySource& source, const std::string& output, RestoreReport* report) {
  OwnerNames names;
  std::vector<proto::Entry> open;  // the folders whose subtrees are still coming, outermost first
  auto close_until = [&](const std::string& next) -> absl::Status {
    while (!open.empty() && !Beneath(next, open.back().path())) {
      RETURN_IF_ERROR(ApplyMeta(open.back(), output + "/" + open.back().path(), &names, report));
      open.pop_back();
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(source([&](proto::Entry e) -> absl::Status {
    RETURN_IF_ERROR(close_until(e.path()));
    if (e.type() == "dir") {
      open.push_back(std::move(e));
      return absl::OkStatus();
    }
    if (e.type() == "hardlink") return absl::OkStatus();
    std::string path = output + "/" + e.path();
    if ((e.type() == "chardev" || e.type() == "blockdev") && ::access(path.c_str(), F_OK) != 0) {
      return absl::OkStatus();
    }
    return ApplyMeta(e, path, &names, report);
  }));
  return close_until("");
}

// Checks every entry as the source gives it (read once, into a spool), then creates folders and files (the spool's
// first reading), hard links and symlinks (the second: so no write can go through one), flushes once, and gives
// everything its metadata (the third). Nothing is written when an entry is refused.
absl::Status RestoreStreamed(const EntrySource& source, const std::string& output, const ContentFiller& content,
                             RestoreReport* report) {
  // The source is read once: checked and spooled; the other passes read the spool.
  ASSIGN_OR_RETURN(std::unique_ptr<EntrySpool> spool, EntrySpool::Create());
  {
    ASSIGN_OR_RETURN(std::unique_ptr<TreeChecker> checker, TreeChecker::Open());
    RETURN_IF_ERROR(source([&](proto::Entry e) {
      RETURN_IF_ERROR(checker->Add(e));
      return spool->Add(e);
    }));
    RETURN_IF_ERROR(checker->Flush());
    RETURN_IF_ERROR(spool->Finish());
  }
  const EntrySource spooled = [&spool](const EntryEach& each) { return spool->ForEach(each); };
  RETURN_IF_ERROR(CheckRestoreTarget(output));
  RETURN_IF_ERROR(file::MakeDirs(output, 0700));
  RestoreReport local;
  if (report == nullptr) report = &local;
  report->owners_applied = ::geteuid() == 0;
  RETURN_IF_ERROR(CreateEntries(spooled, output, content, report));
  RETURN_IF_ERROR(spooled([&output](proto::Entry e) {
    return e.type() == "hardlink" || e.type() == "symlink" ? CreateLink(e, output) : absl::OkStatus();
  }));
  RETURN_IF_ERROR(FlushFileSystem(output));
  return ApplyAllMeta(spooled, output, report);
}

// The entries of `entries`, in order, as a source.
EntrySource FromVector(const std::vector<proto::Entry>& entries) {
  return [&entries](const EntryEach& each) {
    for (const proto::Entry& e : entries) RETURN_IF_ERROR(each(e));
    return absl::OkStatus();
  };
}

// Creates each file of a batch at its full length, all hole, then has `fill` write them.
ContentFiller CreateThenFill(const std::string& output, const ContentFiller& fill) {
  return [&output, &fill](const std::vector<const proto::Entry*>& files) -> absl::Status {
    for (const proto::Entry* e : files) {
      ASSIGN_OR_RETURN(int fd, CreateRestoredFile(*e, output + "/" + e->path()));
      ::close(fd);
    }
    return fill(files);
  };
}

}  // namespace

absl::Status ValidateEntries(const std::vector<proto::Entry>& entries) {
  ASSIGN_OR_RETURN(std::unique_ptr<TreeChecker> checker, TreeChecker::Open());
  for (const proto::Entry& e : entries) RETURN_IF_ERROR(checker->Add(e));
  return checker->Flush();
}

absl::Status CheckRestoreTarget(const std::string& output) {
  DIR* d = ::opendir(output.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return absl::OkStatus();
    return file::ErrnoStatus(errno, "cannot open the restore target", output);
  }
  int n = 0;
  while (dirent* e = ::readdir(d)) n += std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0;
  ::closedir(d);
  if (n > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the restore target ", output, " is not empty; restore into a new or empty folder"));
  }
  return absl::OkStatus();
}

absl::Status RestoreTree(const std::vector<proto::Entry>& entries, const std::string& output,
                         const ContentWriter& write, int threads, RestoreReport* report) {
  return RestoreTree(FromVector(entries), output, write, threads, report);
}

absl::Status RestoreTree(const EntrySource& source, const std::string& output, const ContentWriter& write, int threads,
                         RestoreReport* report) {
  return RestoreStreamed(
      source, output,
      [&](const std::vector<const proto::Entry*>& files) {
        return RestoreFilesInParallel(files, output, write, threads);
      },
      report);
}

absl::Status RestoreTreeFilled(const std::vector<proto::Entry>& entries, const std::string& output,
                               const ContentFiller& fill, RestoreReport* report) {
  return RestoreStreamed(FromVector(entries), output, CreateThenFill(output, fill), report);
}

absl::Status RestoreTreeFilled(const EntrySource& source, const std::string& output, const ContentFiller& fill,
                               RestoreReport* report) {
  return RestoreStreamed(source, output, CreateThenFill(output, fill), report);
}

}  // namespace vmb::offline
