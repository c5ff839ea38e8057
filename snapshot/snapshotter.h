// Snapshots a set of disk page blobs in parallel, as fast as the storage account allows: one worker per disk up to
// `parallelism`, sharing the transport's pooled connections. Throttling (503 ServerBusy, 500, 429 by the client's
// retry policy; 409 SnapshotOperationRateExceeded here) is retried with backoff until `deadline`, the end of the
// freeze budget. Never throws away a result: every disk gets a DiskResult.
#ifndef VMBACKUP_SNAPSHOT_SNAPSHOTTER_H_
#define VMBACKUP_SNAPSHOT_SNAPSHOTTER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/blob/blob_client.h"
#include "common/time/clock.h"

namespace vmb::snapshot {

struct DiskResult {
  blob::BlobUri disk;
  absl::Status status;   // OK, or the last error (its Azure code tells throttling from other failures)
  std::string snapshot;  // x-ms-snapshot
  int attempts = 0;
  absl::Duration elapsed;
};

struct SnapshotOptions {
  int parallelism = 64;
  absl::Time deadline = absl::InfiniteFuture();
  absl::Duration rate_backoff = absl::Milliseconds(200);
};

std::vector<DiskResult> SnapshotDisks(blob::BlobClient& client, const std::vector<blob::BlobUri>& disks,
                                      const blob::Metadata& metadata, const SnapshotOptions& options, Clock& clock);

// Before the freeze: reads every disk's properties in parallel. This checks each disk exists and its SAS works
// (so a bad disk fails without freezing the VM for nothing) and leaves warm connections in the transport's pool
// for the snapshot calls. Returns one status per disk, in order.
std::vector<absl::Status> CheckDisks(blob::BlobClient& client, const std::vector<blob::BlobUri>& disks,
                                     int parallelism);

// <blob URI without query>?snapshot=<id>
std::string SnapshotUri(const blob::BlobUri& disk, const std::string& snapshot);

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_SNAPSHOTTER_H_
