#include "offline_seed/agent/entry_meta.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::offline {

std::string OwnerNames::User(uid_t uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = users_.find(uid);
  if (it != users_.end()) return it->second;
  std::vector<char> buf(16384);
  passwd pw, *found = nullptr;
  std::string name;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) name = found->pw_name;
  return users_[uid] = name;
}

std::string OwnerNames::Group(gid_t gid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(gid);
  if (it != groups_.end()) return it->second;
  std::vector<char> buf(16384);
  group gr, *found = nullptr;
  std::string name;
  if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr) name = found->gr_name;
  return groups_[gid] = name;
}

uid_t OwnerNames::Uid(const std::string& name, uid_t fallback) {
  if (name.empty()) return fallback;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = uids_.find(name);
  if (it == uids_.end()) {
    std::vector<char> buf(16384);
    passwd pw, *found = nullptr;
    bool ok = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr;
    it = uids_.emplace(name, ok ? found->pw_uid : static_cast<uid_t>(-1)).first;
  }
  return it->second == static_cast<uid_t>(-1) ? fallback : it->second;
}

gid_t OwnerNames::Gid(const std::string& name, gid_t fallback) {
  if (name.empty()) return fallback;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = gids_.find(name);
  if (it == gids_.end()) {
    std::vector<char> buf(16384);
    group gr, *found = nullptr;
    bool ok = ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr;
    it = gids_.emplace(name, ok ? found->gr_gid : static_cast<gid_t>(-1)).first;
  }
  return it->second == static_cast<gid_t>(-1) ? fallback : it->second;
}

void SetStatFields(const struct stat& st, OwnerNames* names, proto::Entry* e) {
  e->set_mode(st.st_mode & 07777);
  e->set_uid(st.st_uid);
  e->set_gid(st.st_gid);
  e->set_user(names->User(st.st_uid));
  e->set_group(names->Group(st.st_gid));
  e->set_mtimesec(st.st_mtim.tv_sec);
  e->set_mtimensec(static_cast<uint32_t>(st.st_mtim.tv_nsec));
  // For change detection only: wraps rather than overflows (a ctime is the time of the last change on this machine).
  e->set_ctimens(static_cast<int64_t>(static_cast<uint64_t>(st.st_ctim.tv_sec) * 1000000000u +
                                      static_cast<uint64_t>(st.st_ctim.tv_nsec)));
  e->set_inode(static_cast<uint64_t>(st.st_ino));
}

absl::Status ReadXattrs(const std::string& path, proto::Entry* e) {
  e->clear_xattrs();
  std::string names;
  for (int tries = 0;; ++tries) {  // the list can grow between the two calls
    ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
    if (n < 0 && (errno == ENOTSUP || errno == ENODATA)) return absl::OkStatus();
    if (n < 0) return file::ErrnoStatus(errno, "cannot list the extended attributes of", path);
    if (n == 0) return absl::OkStatus();
    names.resize(static_cast<size_t>(n));
    n = ::llistxattr(path.c_str(), names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno != ERANGE || tries == 3) return file::ErrnoStatus(errno, "cannot list the extended attributes of", path);
  }
  for (size_t at = 0; at < names.size();) {
    std::string name(names.c_str() + at);
    at += name.size() + 1;
    if (name.empty()) continue;
    std::string value;
    ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (n < 0 && errno == ENODATA) continue;  // removed since the listing
    if (n < 0) return file::ErrnoStatus(errno, absl::StrCat("cannot read the extended attribute ", name, " of"), path);
    value.resize(static_cast<size_t>(n) + 256);
    n = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (n < 0 && errno == ENODATA) continue;
    if (n < 0) return file::ErrnoStatus(errno, absl::StrCat("cannot read the extended attribute ", name, " of"), path);
    value.resize(static_cast<size_t>(n));
    proto::Xattr* x = e->add_xattrs();
    x->set_name(name);
    x->set_value(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<proto::Extent>> DataExtents(int fd, uint64_t size, const std::string& path) {
  std::vector<proto::Extent> out;
  for (uint64_t at = 0; at < size;) {
    off_t data = ::lseek(fd, static_cast<off_t>(at), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole from here on
    if (data < 0 && (errno == EINVAL || errno == ENOTSUP)) return std::vector<proto::Extent>();  // no hole support
    if (data < 0) return file::ErrnoStatus(errno, "cannot find the data in", path);
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return file::ErrnoStatus(errno, "cannot find the holes in", path);
    uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    if (static_cast<uint64_t>(data) >= end) break;
    proto::Extent x;
    x.set_offset(static_cast<uint64_t>(data));
    x.set_length(end - static_cast<uint64_t>(data));
    out.push_back(x);
    at = end;
  }
  if (out.size() == 1 && out[0].offset() == 0 && out[0].length() == size) out.clear();  // no hole
  if (out.empty() && size > 0) {
    // All hole: one empty extent says "sparse, no data" (an empty list means "all data").
    proto::Extent x;
    x.set_offset(size);
    x.set_length(0);
    out.push_back(x);
  }
  return out;
}

namespace {

// The part of extent `x` within the file's size (a file cut short while it was read keeps the size captured).
uint64_t LengthWithin(const proto::Extent& x, uint64_t size) {
  if (x.offset() >= size) return 0;
  return std::min<uint64_t>(x.length(), size - x.offset());
}

}  // namespace

uint64_t StoredLength(const proto::Entry& file) {
  if (file.extents().empty()) return file.size();
  uint64_t total = 0;
  for (const proto::Extent& x : file.extents()) total += LengthWithin(x, file.size());
  return total;
}

absl::StatusOr<ChunkSlicer::Slice> ChunkSlicer::Next(uint64_t chunk_length, const std::string& what) {
  if (skip_ > chunk_length) {
    return absl::DataLossError(absl::StrCat(what, ": its bytes begin at ", skip_, " in a chunk of ", chunk_length,
                                            " bytes (the catalogue is damaged)"));
  }
  Slice s{skip_, std::min(chunk_length - skip_, left_), at_};
  skip_ = 0;
  left_ -= s.length;
  at_ += s.length;
  return s;
}

absl::Status ChunkSlicer::Done(const std::string& what) const {
  if (left_ == 0) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat(what, ": its chunks hold ", at_, " of its ", at_ + left_, " bytes (the catalogue is damaged)"));
}

StoredLayout::StoredLayout(const proto::Entry& file) {
  uint64_t stream = 0;
  for (const proto::Extent& x : file.extents()) {
    const uint64_t length = LengthWithin(x, file.size());
    if (length == 0) continue;
    pieces_.push_back({stream, x.offset(), length});
    stream += length;
  }
  if (pieces_.empty() && !file.extents().empty()) pieces_.push_back({0, 0, 0});  // all holes: nothing to write
}

absl::Status StoredLayout::Write(int fd, uint64_t stream_at, absl::string_view data, const std::string& path) const {
  auto write_at = [&](uint64_t offset, absl::string_view bytes) -> absl::Status {
    for (size_t w = 0; w < bytes.size();) {
      ssize_t n = ::pwrite(fd, bytes.data() + w, bytes.size() - w, static_cast<off_t>(offset + w));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return file::ErrnoStatus(errno, "cannot write", path);
      w += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  };
  if (pieces_.empty()) return write_at(stream_at, data);
  // The last piece starting at or before stream_at, then onwards.
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), stream_at,
                             [](uint64_t at, const Piece& p) { return at < p.stream; });
  if (it != pieces_.begin()) --it;
  while (!data.empty()) {
    if (it == pieces_.end() || stream_at < it->stream || stream_at >= it->stream + it->length) {
      if (it != pieces_.end() && stream_at >= it->stream + it->length) {
        ++it;
        continue;
      }
      return absl::DataLossError(
          absl::StrCat("the stored data of ", path, " runs past its extents (a damaged catalogue)"));
    }
    uint64_t within = stream_at - it->stream;
    size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), it->length - within));
    RETURN_IF_ERROR(write_at(it->offset + within, data.substr(0, n)));
    data.remove_prefix(n);
    stream_at += n;
  }
  return absl::OkStatus();
}

absl::Status ApplyMeta(const proto::Entry& e, const std::string& path, OwnerNames* names, RestoreReport* report) {
  const bool link = e.type() == "symlink";
  auto note = [&](absl::string_view what, int err) {
    if (report != nullptr)
      report->not_restored.push_back(absl::StrCat(path, ": ", what, " (", std::strerror(err), ")"));
  };
  if (::geteuid() == 0) {
    uid_t uid = names->Uid(e.user(), e.uid());
    gid_t gid = names->Gid(e.group(), e.gid());
    if (::lchown(path.c_str(), uid, gid) != 0) note(absl::StrCat("owner ", uid, ":", gid), errno);
  }
  for (const proto::Xattr& x : e.xattrs()) {
    if (::lsetxattr(path.c_str(), x.name().c_str(), x.value().data(), x.value().size(), 0) != 0) {
      note(absl::StrCat("extended attribute ", absl::CHexEscape(x.name())), errno);
    }
  }
  if (!link && ::chmod(path.c_str(), e.mode()) != 0) return file::ErrnoStatus(errno, "cannot set the mode of", path);
  if (e.mtimensec() > 999999999u) {
    return absl::DataLossError(absl::StrCat("the catalogue gives ", path, " a time with ", e.mtimensec(),
                                            " nanoseconds (a damaged catalogue)"));
  }
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(e.mtimesec());
  times[0].tv_nsec = times[1].tv_nsec = static_cast<long>(e.mtimensec());
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return file::ErrnoStatus(errno, "cannot set the modification time of", path);
  }
  return absl::OkStatus();
}

}  // namespace vmb::offline
