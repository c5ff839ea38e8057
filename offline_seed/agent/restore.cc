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
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

absl::Status Tampered(absl::string_view path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("the catalogue is damaged or was tampered with: entry \"",
                                          absl::CHexEscape(path), "\" ", why,
                                          "; nothing was restored (restore another recovery point)"));
}

// One entry against those before it (`types`: path -> type); adds it to `types`.
absl::Status ValidateEntry(const proto::Entry& e, std::map<absl::string_view, absl::string_view>* types) {
  static const std::set<std::string> kTypes = {"file", "dir", "symlink", "hardlink", "fifo", "chardev", "blockdev"};
  if (kTypes.count(e.type()) == 0) {
    return Tampered(e.path(), absl::StrCat("has the unknown type \"", absl::CHexEscape(e.type()), "\""));
  }
  if (e.type() == "hardlink") {
    auto first = types->find(e.target());
    if (first == types->end() || first->second != "file") {
      return Tampered(e.path(), "is a hard link to no earlier file entry");
    }
  }
  if (e.path().empty() || e.path().front() == '/') return Tampered(e.path(), "is not a relative path");
  if (e.path().find('\0') != std::string::npos || e.target().find('\0') != std::string::npos) {
    return Tampered(e.path(), "holds a NUL byte");
  }
  absl::string_view path = e.path();
  for (size_t start = 0;;) {
    size_t slash = path.find('/', start);
    absl::string_view part =
        path.substr(start, slash == absl::string_view::npos ? absl::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return Tampered(path, "has an empty, \".\" or \"..\" component");
    if (slash == absl::string_view::npos) break;
    auto parent = types->find(path.substr(0, slash));
    if (parent != types->end() && parent->second != "dir") return Tampered(path, "lies beneath a symlink or a file");
    start = slash + 1;
  }
  if (!types->emplace(path, e.type()).second) return Tampered(path, "is listed twice");
  return absl::OkStatus();
}

// Creates the folders and sorts the other entries out: regular files, hard links and symlinks are made later.
absl::Status CreateFolders(const std::vector<proto::Entry>& entries, const std::string& output,
                           std::vector<const proto::Entry*>* files, std::vector<const proto::Entry*>* hardlinks,
                           std::vector<const proto::Entry*>* symlinks) {
  for (const proto::Entry& e : entries) {
    std::string path = output + "/" + e.path();
    if (e.type() == "dir") {
      if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return file::ErrnoStatus(errno, "cannot create", path);
    } else if (e.type() == "symlink") {
      symlinks->push_back(&e);
    } else if (e.type() == "hardlink") {
      hardlinks->push_back(&e);
    } else if (e.type() == "file") {
      files->push_back(&e);
    }
  }
  return absl::OkStatus();
}

// FIFOs and device nodes (devices only as root: otherwise noted in `report`).
absl::Status CreateSpecials(const std::vector<proto::Entry>& entries, const std::string& output,
                            RestoreReport* report) {
  for (const proto::Entry& e : entries) {
    std::string path = output + "/" + e.path();
    if (e.type() == "fifo") {
      if (::mkfifo(path.c_str(), 0600) != 0) return file::ErrnoStatus(errno, "cannot create the FIFO", path);
    } else if (e.type() == "chardev" || e.type() == "blockdev") {
      mode_t kind = e.type() == "chardev" ? S_IFCHR : S_IFBLK;
      if (::mknod(path.c_str(), kind | 0600, static_cast<dev_t>(e.rdev())) != 0) {
        if (errno != EPERM) return file::ErrnoStatus(errno, "cannot create the device node", path);
        report->not_restored.push_back(absl::StrCat(path, ": the device node (only root can create one)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CreateLinks(const std::vector<const proto::Entry*>& hardlinks,
                         const std::vector<const proto::Entry*>& symlinks, const std::string& output) {
  for (const proto::Entry* e : hardlinks) {
    std::string path = output + "/" + e->path(), first = output + "/" + e->target();
    if (::link(first.c_str(), path.c_str()) != 0) return file::ErrnoStatus(errno, "cannot create the hard link", path);
  }
  for (const proto::Entry* e : symlinks) {
    std::string path = output + "/" + e->path();
    if (::symlink(e->target().c_str(), path.c_str()) != 0) return file::ErrnoStatus(errno, "cannot create link", path);
  }
  return absl::OkStatus();
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

// Owners, xattrs, modes and times last (deepest first), so creating children does not disturb their parents. A
// hard link shares its first name's inode, which gets them.
absl::Status ApplyAllMeta(const std::vector<proto::Entry>& entries, const std::string& output, RestoreReport* report) {
  OwnerNames names;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->type() == "hardlink") continue;
    std::string path = output + "/" + it->path();
    if ((it->type() == "chardev" || it->type() == "blockdev") && ::access(path.c_str(), F_OK) != 0) continue;
    RETURN_IF_ERROR(ApplyMeta(*it, path, &names, report));
  }
  return absl::OkStatus();
}

// Folders first, then the files (their content from `content`), FIFOs and devices, hard links, symlinks last (so no
// write can go through one), one flush, then owners, xattrs, modes and times deepest first.
absl::Status RestoreTreeWith(const std::vector<proto::Entry>& entries, const std::string& output,
                             const ContentFiller& content, RestoreReport* report) {
  RETURN_IF_ERROR(ValidateEntries(entries));
  RETURN_IF_ERROR(CheckRestoreTarget(output));
  RETURN_IF_ERROR(file::MakeDirs(output, 0700));
  RestoreReport local;
  if (report == nullptr) report = &local;
  report->owners_applied = ::geteuid() == 0;
  std::vector<const proto::Entry*> files, hardlinks, symlinks;
  RETURN_IF_ERROR(CreateFolders(entries, output, &files, &hardlinks, &symlinks));
  RETURN_IF_ERROR(content(files));
  RETURN_IF_ERROR(CreateSpecials(entries, output, report));
  RETURN_IF_ERROR(CreateLinks(hardlinks, symlinks, output));
  RETURN_IF_ERROR(FlushFileSystem(output));
  return ApplyAllMeta(entries, output, report);
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

}  // namespace

std::vector<proto::Entry> TakeEntries(google::protobuf::RepeatedPtrField<proto::Entry>* from) {
  std::vector<proto::Entry> out;
  out.reserve(from->size());
  for (proto::Entry& e : *from) out.push_back(std::move(e));
  google::protobuf::RepeatedPtrField<proto::Entry>().Swap(from);  // frees the moved-from shells, too
  return out;
}

absl::Status ValidateEntries(const std::vector<proto::Entry>& entries) {
  std::map<absl::string_view, absl::string_view> types;  // path -> type
  for (const proto::Entry& e : entries) RETURN_IF_ERROR(ValidateEntry(e, &types));
  // A parent listed after its child (as a file or symlink) is caught here.
  for (const auto& [path, type] : types) {
    for (size_t slash = path.find('/'); slash != absl::string_view::npos; slash = path.find('/', slash + 1)) {
      auto parent = types.find(path.substr(0, slash));
      if (parent != types.end() && parent->second != "dir") return Tampered(path, "lies beneath a symlink or a file");
    }
  }
  return absl::OkStatus();
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
  return RestoreTreeWith(
      entries, output,
      [&](const std::vector<const proto::Entry*>& files) {
        return RestoreFilesInParallel(files, output, write, threads);
      },
      report);
}

absl::Status RestoreTreeFilled(const std::vector<proto::Entry>& entries, const std::string& output,
                               const ContentFiller& fill, RestoreReport* report) {
  return RestoreTreeWith(
      entries, output,
      [&](const std::vector<const proto::Entry*>& files) -> absl::Status {
        for (const proto::Entry* e : files) {
          ASSIGN_OR_RETURN(int fd, CreateRestoredFile(*e, output + "/" + e->path()));
          ::close(fd);
        }
        return fill(files);
      },
      report);
}

}  // namespace vmb::offline
