// The status document the extension reports, in its two renderings: the local status file
// (<statusFolder>/<N>.status, timestampUTC as "%Y-%m-%dT%H:%M:%SZ") and the status blob (timestampUTC as the .NET
// form "\/Date(<ms>)\/"), and where they are written.
#ifndef VMBACKUP_SNAPSHOT_STATUS_REPORT_H_
#define VMBACKUP_SNAPSHOT_STATUS_REPORT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/blob/blob_client.h"
#include "snapshot/proto/handler.pb.h"

namespace vmb::snapshot {

inline constexpr char kExtensionName[] = "Microsoft.Azure.RecoveryServices.VMSnapshot";
inline constexpr char kExtensionVersion[] = "1.0.0";

struct SnapshotInfo {
  bool is_successful = false;
  std::string snapshot_uri;   // <blob URI without query>?snapshot=<id>
  std::string error_message;  // redacted
  std::string blob_uri;       // without query (no SAS)
};

struct JobStatus {
  std::string operation = "Enable";
  std::string status = "transitioning";  // transitioning | success | error
  int code = 4;
  std::string locale;
  std::string message_str;  // localized headline (+ detail)
  int consistency = 0;
  std::string job_message;  // free-form detail for the backup service
  std::string task_id;
  std::string ticks;
  std::vector<SnapshotInfo> snapshots;
  std::vector<std::pair<std::string, std::string>> telemetry;
};

enum class StatusForm { kFile, kBlob };

std::string RenderStatus(const JobStatus& status, absl::Time now, StatusForm form);

// Writes <folder>/<seq>.status atomically (temp file + rename), mode 0644 (it holds no secrets).
absl::Status WriteStatusFile(const std::string& folder, int seq, const std::string& json);

// Reads a status file or status blob (a one-element JSON array; the blob's "\/Date(ms)\/" form included), as the
// backup service does. kInvalidArgument naming `what` when it is not JSON of that shape, kDataLoss when the array
// does not hold exactly one status.
absl::StatusOr<proto::StatusDocument> ParseStatus(absl::string_view text, absl::string_view what);

// Writes `data` to a status/logs blob as the Linux twin does: a page blob is cleared and written in 512-byte pages
// (the last one padded with NULs) up to its size; anything else (or a blob that does not exist) gets Put Blob.
// `known`, when given, carries what the first upload of a job learned about the blob (its type and size) to the
// next, which then skips asking again.
absl::Status UploadReportBlob(blob::BlobClient& client, const blob::BlobUri& uri, const std::string& data,
                              std::optional<blob::BlobProperties>* known = nullptr);

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_STATUS_REPORT_H_
