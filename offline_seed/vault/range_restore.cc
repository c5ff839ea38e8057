#include "offline_seed/vault/range_restore.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::vault {
namespace {

// The file being written, kept open while consecutive chunks go to it.
class OpenFile {
 public:
  OpenFile() = default;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() { Close(); }

  // The descriptor of planned file `file` at `path`, opened unless it is the one open now.
  absl::StatusOr<int> Get(size_t file, const std::string& path) {
    if (file == file_) return fd_;
    Close();
    file_ = file;
    fd_ = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd_ < 0) return file::ErrnoStatus(errno, "cannot open", path);
    return fd_;
  }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  size_t file_ = SIZE_MAX;
  int fd_ = -1;
};

}  // namespace

absl::Status RestoreRange(blob::BlobClient& client, const blob::BlobUri& container, const RestorePlan& plan,
                          const PackRange& r, const RangeTarget& out) {
  const std::string& pack = plan.order[r.first]->chunk.pack();
  ASSIGN_OR_RETURN(std::string data,
                   client.GetBlob(container.WithBlob(pack), blob::ByteRange{r.begin, r.end - r.begin}));
  thread_local std::string scratch;  // each chunk's bytes, in memory reused chunk to chunk
  OpenFile open;
  for (size_t k = r.first; k < r.last; ++k) {
    const offline::proto::Chunk& c = plan.order[k]->chunk;
    ASSIGN_OR_RETURN(
        absl::string_view raw,
        offline::OpenChunkInto(absl::string_view(data).substr(c.offset() - r.begin, c.compressedlength()), c.length(),
                               c.sha256(), absl::StrCat("in vault pack ", pack, " at offset ", c.offset()), &scratch));
    for (const ChunkUse& u : plan.order[k]->uses) {
      std::string path = *out.target + "/" + (*out.files)[u.file]->path();
      ASSIGN_OR_RETURN(int fd, open.Get(u.file, path));
      const absl::string_view part = raw.substr(u.skip, u.length);
      RETURN_IF_ERROR(plan.layouts[u.file].Write(fd, u.at, part, path));
      // Write-back starts now, while other ranges are still coming in; the flush at the end then has little left
      // to wait for.
      ::sync_file_range(fd, static_cast<off_t>(u.at), static_cast<off_t>(part.size()), SYNC_FILE_RANGE_WRITE);
      out.wrote(part.size());
    }
  }
  return absl::OkStatus();
}

}  // namespace vmb::vault
