#include "snapshot/snapshotter.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status/http_status.h"

namespace vmb::snapshot {

std::vector<DiskResult> SnapshotDisks(blob::BlobClient& client, const std::vector<blob::BlobUri>& disks,
                                      const blob::Metadata& metadata, const SnapshotOptions& options, Clock& clock) {
  std::vector<DiskResult> results(disks.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < disks.size(); i = next.fetch_add(1)) {
      DiskResult& r = results[i];
      r.disk = disks[i];
      absl::Time start = clock.Now();
      absl::Duration backoff = options.rate_backoff;
      for (;;) {
        ++r.attempts;
        absl::StatusOr<blob::BlobUri> snap = client.SnapshotBlob(disks[i], metadata);
        if (snap.ok()) {
          r.status = absl::OkStatus();
          r.snapshot = snap->snapshot();
          break;
        }
        r.status = snap.status();
        bool rate = AzureErrorCodeOf(r.status) == "SnapshotOperationRateExceeded";
        if (!rate || clock.Now() + backoff > options.deadline) break;
        clock.SleepFor(backoff);
        backoff = std::min(backoff * 2, absl::Seconds(5));
      }
      r.elapsed = clock.Now() - start;
    }
  };
  size_t threads = std::min<size_t>(disks.size(), static_cast<size_t>(std::max(1, options.parallelism)));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return results;
}

std::vector<absl::Status> CheckDisks(blob::BlobClient& client, const std::vector<blob::BlobUri>& disks,
                                     int parallelism) {
  std::vector<absl::Status> out(disks.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < disks.size(); i = next.fetch_add(1)) {
      absl::StatusOr<blob::BlobProperties> p = client.GetProperties(disks[i]);
      if (p.ok() && p->blob_type != "PageBlob") {
        out[i] = absl::FailedPreconditionError(
            absl::StrCat(disks[i].Redacted(), " is a ", p->blob_type, ", not a page blob (VM disks are page blobs)"));
      } else {
        out[i] = p.status();
      }
    }
  };
  size_t threads = std::min<size_t>(disks.size(), static_cast<size_t>(std::max(1, parallelism)));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return out;
}

std::string SnapshotUri(const blob::BlobUri& disk, const std::string& snapshot) {
  return absl::StrCat(disk.ResourceUrl(), "?snapshot=", snapshot);
}

}  // namespace vmb::snapshot
