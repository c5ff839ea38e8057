#include "offline_seed/agent/walk.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status/status_macros.h"
#include "offline_seed/agent/entry_meta.h"

namespace vmb::offline {
namespace {

// The walk's state: the tree it fills, owner names, and the first name of each file with several names.
class Walker {
 public:
  Walker(SourceTree* out, const EntrySink& sink) : out_(out), sink_(sink) {}

  // One entry and, for a folder, everything beneath it. Entries that cannot be read or that vanished are noted.
  void Walk(const std::string& full, const std::string& rel) {
    if (stopped_) return;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) {
      if (errno == ENOENT) return Note(full, "vanished", "deleted before it was read");
      return Note(full, "unreadable", std::strerror(errno));
    }
    proto::Entry e;
    e.set_path(rel);
    SetStatFields(st, &names_, &e);
    if (absl::Status x = ReadXattrs(full, &e); !x.ok()) Note(full, "unreadable", std::string(x.message()));
    if (S_ISLNK(st.st_mode)) {
      AddSymlink(full, st, std::move(e));
    } else if (S_ISREG(st.st_mode)) {
      AddFile(full, rel, st, std::move(e));
    } else if (S_ISDIR(st.st_mode)) {
      e.set_type("dir");
      Emit(std::move(e), full);
      WalkChildren(full, rel);
    } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      e.set_type(S_ISFIFO(st.st_mode) ? "fifo" : S_ISCHR(st.st_mode) ? "chardev" : "blockdev");
      if (!S_ISFIFO(st.st_mode)) e.set_rdev(static_cast<uint64_t>(st.st_rdev));
      Emit(std::move(e), full);
    } else {
      Note(full, "skipped", S_ISSOCK(st.st_mode) ? "a socket (sockets are not backed up)" : "an unknown kind of entry");
    }
  }

 private:
  void Emit(proto::Entry e, const std::string& full) {
    if (!stopped_ && !sink_(std::move(e), full)) stopped_ = true;
  }

  void Note(const std::string& path, const char* kind, const std::string& detail) {
    NoteProblem(path, kind, detail, &out_->problems);
  }

  void AddSymlink(const std::string& full, const struct stat& st, proto::Entry e) {
    std::string target(static_cast<size_t>(std::max<off_t>(st.st_size, PATH_MAX)) + 1, '\0');
    ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
    if (n < 0) return Note(full, errno == ENOENT ? "vanished" : "unreadable", std::strerror(errno));
    if (static_cast<size_t>(n) == target.size()) return Note(full, "changed", "the link changed while it was read");
    target.resize(static_cast<size_t>(n));
    e.set_type("symlink");
    e.set_target(target);
    Emit(std::move(e), full);
  }

  // A regular file, or a "hardlink" entry when it is another name of a file already in the tree.
  void AddFile(const std::string& full, const std::string& rel, const struct stat& st, proto::Entry e) {
    if (st.st_nlink > 1) {
      auto [it, first] = first_names_.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
      if (!first) {
        e.set_type("hardlink");
        e.set_target(it->second);
        e.clear_xattrs();
        Emit(std::move(e), full);
        return;
      }
    }
    e.set_type("file");
    e.set_size(static_cast<uint64_t>(st.st_size));
    out_->bytes += static_cast<uint64_t>(st.st_size);
    out_->allocated += std::min(static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_blocks) * 512);
    Emit(std::move(e), full);
  }

  // A folder's children, by name; a folder that cannot be listed is restored empty.
  void WalkChildren(const std::string& full, const std::string& rel) {
    DIR* d = ::opendir(full.c_str());
    if (!d) {
      return Note(full, errno == ENOENT ? "vanished" : "unreadable",
                  absl::StrCat("cannot list the folder: ", std::strerror(errno), " (it is restored empty)"));
    }
    std::vector<std::string> children;
    errno = 0;
    while (dirent* de = ::readdir(d)) {
      std::string n = de->d_name;
      if (n != "." && n != "..") children.push_back(n);
    }
    if (errno != 0) Note(full, "unreadable", absl::StrCat("cannot list all of the folder: ", std::strerror(errno)));
    ::closedir(d);
    std::sort(children.begin(), children.end());
    for (size_t i = 0; i < children.size() && !stopped_; ++i) Walk(full + "/" + children[i], rel + "/" + children[i]);
  }

  SourceTree* out_;
  const EntrySink& sink_;
  bool stopped_ = false;
  OwnerNames names_;
  std::map<std::pair<dev_t, ino_t>, std::string> first_names_;
};

// The canonical path `exclude` has or would have: it may not exist yet, so the canonical path of its nearest
// existing ancestor, then the rest. "" when `exclude` is.
std::string CanonicalExclude(const std::string& exclude) {
  if (exclude.empty()) return "";
  char buf[PATH_MAX];
  std::string head = exclude, tail;
  while (::realpath(head.c_str(), buf) == nullptr && head.find('/') != std::string::npos) {
    size_t slash = head.rfind('/');
    tail = head.substr(slash) + tail;
    head = slash == 0 ? "/" : head.substr(0, slash);
  }
  if (::realpath(head.c_str(), buf) != nullptr) return buf + tail;
  if (::realpath(".", buf) != nullptr) return std::string(buf) + "/" + exclude;  // none of its folders exists yet
  return "";
}

}  // namespace

bool Incomplete(const std::vector<proto::Problem>& problems) {
  return std::any_of(problems.begin(), problems.end(),
                     [](const proto::Problem& p) { return p.kind() == "unreadable"; });
}

std::string DisplayPath(absl::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size();) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = n > 0 && i + n <= path.size() && c != 0;
    for (size_t k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(path[i + k]) >> 6) == 2;
    if (valid && n == 1 && c < 0x20) valid = false;  // control characters (a newline in a name) escaped too
    if (valid) {
      out.append(path.data() + i, n);
      i += n;
    } else {
      out += absl::StrFormat("\\x%02x", c);
      ++i;
    }
  }
  return out;
}

void NoteProblem(const std::string& path, const char* kind, const std::string& detail,
                 std::vector<proto::Problem>* problems) {
  proto::Problem* p = &problems->emplace_back();
  p->set_path(DisplayPath(path));
  p->set_kind(kind);
  p->set_detail(detail);
}

absl::StatusOr<SourceTree> WalkSources(const std::vector<std::string>& sources, const std::string& exclude) {
  SourceTree tree;
  ASSIGN_OR_RETURN(SourceTree walked, WalkSources(sources, exclude, [&tree](proto::Entry e, const std::string& full) {
                     if (e.type() == "file") tree.files.emplace_back(full, tree.entries.size());
                     tree.entries.push_back(std::move(e));
                     return true;
                   }));
  walked.entries = std::move(tree.entries);
  walked.files = std::move(tree.files);
  return walked;
}

absl::StatusOr<SourceTree> WalkSources(const std::vector<std::string>& sources, const std::string& exclude,
                                       const EntrySink& sink) {
  if (sources.empty()) return absl::InvalidArgumentError("no source folder given");
  const std::string exclude_real = CanonicalExclude(exclude);
  SourceTree tree;
  Walker walker(&tree, sink);
  for (size_t i = 0; i < sources.size(); ++i) {
    char buf[PATH_MAX];
    struct stat st;
    if (::realpath(sources[i].c_str(), buf) == nullptr || ::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("source ", sources[i], " is not a folder"));
    }
    std::string real = buf;
    if (!exclude_real.empty() && absl::StartsWith(exclude_real + "/", real + "/")) {
      return absl::InvalidArgumentError(absl::StrCat("the staging location ", exclude, " is inside the source ",
                                                     sources[i], "; choose a staging location outside it"));
    }
    if (std::find(tree.roots.begin(), tree.roots.end(), real) != tree.roots.end()) {
      return absl::InvalidArgumentError(absl::StrCat("the source ", sources[i], " is given twice (as ", real, ")"));
    }
    tree.roots.push_back(real);
    walker.Walk(real, absl::StrCat(i));
  }
  return tree;
}

}  // namespace vmb::offline
