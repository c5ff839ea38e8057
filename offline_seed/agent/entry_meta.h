// What a backup keeps of an entry besides its content, read from the source and put back on restore: owners (ids
// and names), every extended attribute (POSIX ACLs are xattrs), the modification time over its full range (seconds
// and nanoseconds apart: no 64-bit nanosecond overflow before 1678 or after 2262), the data extents of sparse files
// (found with SEEK_DATA / SEEK_HOLE, as GNU tar --sparse does) and device numbers. The anchor is GNU tar with
// `--xattrs --acls --sparse`: a restore keeps at least what tar keeps.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_ENTRY_META_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_ENTRY_META_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::offline {

// User and group names by id and ids by name, each looked up once (getpwuid_r and friends). Thread-safe.
class OwnerNames {
 public:
  std::string User(uid_t uid);
  std::string Group(gid_t gid);
  // The local id of `name`, or `fallback` when the name is empty or unknown on this machine (tar's rule).
  uid_t Uid(const std::string& name, uid_t fallback);
  gid_t Gid(const std::string& name, gid_t fallback);

 private:
  std::mutex mu_;
  std::map<uid_t, std::string> users_;
  std::map<gid_t, std::string> groups_;
  std::map<std::string, uid_t> uids_;
  std::map<std::string, gid_t> gids_;
};

// Sets the entry's mode, owner (ids and names), modification time, and the change-detection fields (ctime, inode)
// from `st`.
void SetStatFields(const struct stat& st, OwnerNames* names, proto::Entry* e);

// Reads every extended attribute of `path`, not following a symlink. A file system without xattrs has none.
absl::Status ReadXattrs(const std::string& path, proto::Entry* e);

// The data extents of the open regular file `fd` whose length is `size`, in order; empty when the file has no hole
// (the whole file is data). Errors name `path`.
absl::StatusOr<std::vector<proto::Extent>> DataExtents(int fd, uint64_t size, const std::string& path);

// Where a file's stored bytes belong in it: the stored stream is its extents back to back, each cut at the file's
// size (the whole file when it has none), so a piece of the stream may span several extents.
class StoredLayout {
 public:
  explicit StoredLayout(const proto::Entry& file);
  // Writes `data`, which starts at `stream_at` in the stored stream, to its place in `fd`. kDataLoss when it runs
  // past the file's extents (a damaged catalogue); write errors name `path`.
  absl::Status Write(int fd, uint64_t stream_at, absl::string_view data, const std::string& path) const;

 private:
  struct Piece {
    uint64_t stream, offset, length;
  };
  std::vector<Piece> pieces_;  // empty: the stream is the file
};

// The length of a file's stored stream: its extents' total (each cut at the size), or its size when it has none.
uint64_t StoredLength(const proto::Entry& file);

// Which bytes of each of a file's chunks, taken in order, are the file's (proto Entry.chunkOffset): the first chunk's
// from chunkOffset on, then whole chunks, cut at the stored length.
class ChunkSlicer {
 public:
  explicit ChunkSlicer(const proto::Entry& file) : skip_(file.chunkoffset()), left_(StoredLength(file)) {}
  struct Slice {
    uint64_t skip, length;  // the chunk's bytes [skip, skip + length) ...
    uint64_t at;            // ... go here in the stored stream
  };
  // The slice of the next chunk, which is `chunk_length` bytes long. kDataLoss naming `what` when chunkOffset lies
  // beyond the chunk's end.
  absl::StatusOr<Slice> Next(uint64_t chunk_length, const std::string& what);
  // kDataLoss naming `what` when the chunks ended before the stored length.
  absl::Status Done(const std::string& what) const;

 private:
  uint64_t skip_, left_, at_ = 0;
};

// What a restore could not put back (it goes on without it) and whether it applied owners.
struct RestoreReport {
  bool owners_applied = false;            // only root can; otherwise everything belongs to the restoring user
  std::vector<std::string> not_restored;  // "<path>: <what> (<why>)"
};

// Puts back the owner (when root: by name where the name exists here, else by id), the extended attributes, the
// mode and the modification time of `e` on `path`, in the order that keeps each (chown clears set-uid bits and file
// capabilities, so it goes first; times last). A symlink gets its owner, xattrs and time, not a mode. Errors: a mode
// or time that cannot be set, naming the path; an owner or xattr the target refuses is noted in `report` instead.
absl::Status ApplyMeta(const proto::Entry& e, const std::string& path, OwnerNames* names, RestoreReport* report);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_ENTRY_META_H_
