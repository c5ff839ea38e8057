#include "offline_seed/agent/packer.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_format.h"
#include "common/file/file_util.h"
#include "common/status/status_macros.h"

namespace vmb::offline {

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
  return absl::OkStatus();
}

// The frame and its zero padding in one write, without copying the frame.
absl::Status ImageWriter::WritePadded(const std::string& frame, uint64_t padded) {
  static const char kZeros[512] = {0};
  iovec parts[2] = {{const_cast<char*>(frame.data()), frame.size()},
                    {const_cast<char*>(kZeros), static_cast<size_t>(padded - frame.size())}};
  for (size_t done = 0; done < padded;) {
    ssize_t n = ::pwritev(fd_, parts, 2, static_cast<off_t>(offset_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return file::ErrnoStatus(errno, "cannot write a staging image in", dir_);
    done += static_cast<size_t>(n);
    for (iovec& v : parts) {  // a short write: skip what went out
      size_t skip = std::min(v.iov_len, static_cast<size_t>(n));
      v.iov_base = static_cast<char*>(v.iov_base) + skip;
      v.iov_len -= skip;
      n -= static_cast<ssize_t>(skip);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<proto::Chunk> ImageWriter::Append(const std::string& frame) {
  const uint64_t padded = PaddedSize(frame.size());
  if (fd_ < 0 || offset_ + padded > image_size_) {
    RETURN_IF_ERROR(StartImage());
  }
  RETURN_IF_ERROR(WritePadded(frame, padded));
  proto::Chunk c;
  c.set_image(image_);
  c.set_offset(offset_);
  c.set_compressedlength(static_cast<uint32_t>(frame.size()));
  offset_ += padded;
  return c;
}

absl::Status ImageWriter::Close() {
  if (fd_ < 0) return absl::OkStatus();
  int rc = ::fsync(fd_);
  int fsync_errno = errno;
  ::close(fd_);
  fd_ = -1;
  if (rc != 0) return file::ErrnoStatus(fsync_errno, "cannot flush a staging image in", dir_);
  return absl::OkStatus();
}

}  // namespace vmb::offline
