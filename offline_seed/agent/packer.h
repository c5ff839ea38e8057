// Packing the chunk frames of an initial backup into the staging location's page-blob images: frames back to back
// (no padding per frame: a tree of small files would spend a third of its staging on it), appended to
// images/image-NNNN.vhd until the image is full, then to the next; each image as a whole is zero-padded to a
// multiple of 512 when it is closed (page blobs are written in 512-byte pages). What the catalogue records of each
// frame (image, offset, compressed length) comes back; every reader goes by those.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_PACKER_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_PACKER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::offline {

// `size` rounded up to a whole number of 512-byte pages.
inline uint64_t PaddedSize(uint64_t size) { return (size + 511) / 512 * 512; }

class ImageWriter {
 public:
  // Images go to `dir` (which exists), each at most `image_size` bytes (a multiple of 512, at least one frame).
  ImageWriter(std::string dir, uint64_t image_size) : dir_(std::move(dir)), image_size_(image_size) {}
  // Closes an image still open without flushing it: that happens only when the backup failed, and a staging
  // location is complete only once Close() succeeded (offline-job.json is written after it).
  ~ImageWriter();
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;

  // Appends `frame` right after the previous one, starting a new image when it does not fit in the current one. The
  // chunk has its image, offset and compressedLength set. Errors name the folder.
  absl::StatusOr<proto::Chunk> Append(const std::string& frame);

  // Pads the current image with zeros to a multiple of 512, flushes (fsync) and closes it. Errors name the folder.
  absl::Status Close();

  // Images begun so far.
  uint32_t images() const { return next_image_; }

 private:
  absl::Status StartImage();
  absl::Status Flush();

  std::string dir_;
  uint64_t image_size_;
  int fd_ = -1;
  uint32_t image_ = 0;
  uint32_t next_image_ = 0;
  uint64_t offset_ = 0;  // where the next frame goes in the current image
  std::string pending_;  // frames not yet written: small frames go out in writes of about 1 MiB
  uint64_t pending_at_ = 0;
};

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_PACKER_H_
