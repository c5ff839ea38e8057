// A recovery point's tree and chunk index as the vault keeps them: each a catalogue stream (catalogue_file.h: zstd
// JSON lines, one entry or one chunk a line) in one block blob, "<item>/trees/rp-NNNN.jsonl.zst" and
// "<item>/index/rp-NNNN.jsonl.zst". Written as the backup goes and read back a window at a time, so a point of
// millions of files is never in memory whole, as messages or as text. (Points written before, with their tree in the
// point's JSON and their index as one JSON object, are still read: recovery_points.h.)
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_POINT_STREAMS_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_POINT_STREAMS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "offline_seed/agent/catalogue_file.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::vault {

// Records written to a scratch file on this computer (in a new folder in $TMPDIR, else /var/tmp; removed with the
// writer), then uploaded whole as a block blob.
class RecordUpload {
 public:
  static absl::StatusOr<std::unique_ptr<RecordUpload>> Create();
  ~RecordUpload();
  RecordUpload(const RecordUpload&) = delete;
  RecordUpload& operator=(const RecordUpload&) = delete;

  offline::CatalogueWriter& records() { return *writer_; }
  // Finishes the stream and puts it as the block blob `blob`, `block_bytes` a block (one request at a time).
  absl::Status Upload(blob::BlobClient& client, const blob::BlobUri& blob, uint64_t block_bytes = 4u << 20);

 private:
  RecordUpload(std::string dir, std::unique_ptr<offline::CatalogueWriter> writer)
      : dir_(std::move(dir)), writer_(std::move(writer)) {}
  std::string dir_;
  std::unique_ptr<offline::CatalogueWriter> writer_;
};

// Calls `fn` with each record of the catalogue stream in `blob`, in order, reading `window` bytes a request.
// kDataLoss naming the blob when it is damaged or cut short; `fn`'s error stops the read.
absl::Status ForEachRecord(blob::BlobClient& client, const blob::BlobUri& blob, const offline::RecordVisitor& fn,
                           uint64_t window = 4u << 20);

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_POINT_STREAMS_H_
