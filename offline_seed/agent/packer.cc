#include "offline_seed/agent/packer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_format.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::offline {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

}  // namespace

ImageWriter::~ImageWriter() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status ImageWriter::StartImage() {
  RETURN_IF_ERROR(Close());
  std::string path = absl::StrFormat("%s/image-%04u.vhd", dir_, next_image_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) return file::ErrnoStatus(errno, "cannot create", path);
  image_ = next_image_++;
  offset_ = 0;
  pending_at_ = 0;
  return absl::OkStatus();
}

// Writes the frames gathered since the last flush.
absl::Status ImageWriter::Flush() {
  for (size_t done = 0; done < pending_.size();) {
    ssize_t n = ::pwrite(fd_, pending_.data() + done, pending_.size() - done, static_cast<off_t>(pending_at_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return file::ErrnoStatus(errno, "cannot write a staging image in", dir_);
    done += static_cast<size_t>(n);
  }
  pending_at_ += pending_.size();
  pending_.clear();
  return absl::OkStatus();
}

absl::StatusOr<proto::Chunk> ImageWriter::Append(const std::string& frame) {
  if (fd_ < 0 || offset_ + frame.size() > image_size_) {
    RETURN_IF_ERROR(StartImage());
  }
  pending_.append(frame);
  if (pending_.size() >= kFlushBytes) RETURN_IF_ERROR(Flush());
  proto::Chunk c;
  c.set_image(image_);
  c.set_offset(offset_);
  c.set_compressedlength(static_cast<uint32_t>(frame.size()));
  offset_ += frame.size();
  return c;
}

absl::Status ImageWriter::Close() {
  if (fd_ < 0) return absl::OkStatus();
  pending_.append(PaddedSize(offset_) - offset_, '\0');  // the image as a whole fills whole pages
  absl::Status flushed = Flush();
  int rc = flushed.ok() ? ::fsync(fd_) : 0;
  int fsync_errno = errno;
  ::close(fd_);
  fd_ = -1;
  pending_.clear();
  RETURN_IF_ERROR(flushed);
  if (rc != 0) return file::ErrnoStatus(fsync_errno, "cannot flush a staging image in", dir_);
  return absl::OkStatus();
}

}  // namespace vmb::offline
