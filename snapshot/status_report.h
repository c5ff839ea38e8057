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
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/blob/blob_client.h"
#include "snapshot/proto/handler.pb.h"

namespace vmb::snapshot {

// The name reported when HandlerEnvironment.json names no handler (the agent always names it: status.name is the
// handler's name, e.g. Microsoft.Azure.RecoveryServices.VMSnapshotLinux).
inline constexpr char kExtensionName[] = "Microsoft.Azure.RecoveryServices.VMSnapshot";
// The handler version, from snapshot/version.bzl alone: the package name, manifest.xml, `vmsnapshot --version`, the
// status documents and the backup service simulator's `extension list` all carry it.
inline constexpr char kExtensionVersion[] = VMSNAPSHOT_VERSION;

struct SnapshotInfo {
  bool is_successful = false;
  std::string snapshot_uri;   // <blob URI without query>?snapshot=<id>
  std::string error_message;  // redacted
  std::string blob_uri;       // without query (no SAS)
};

struct JobStatus {
  std::string handler_name;  // from HandlerEnvironment.json; kExtensionName when empty
  std::string vm_type;       // publicSettings.vmType
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

// kBlob: the full document the backup service reads from the status blob (status, code, message, snapshotInfo,
// telemetryData; timestampUTC as "\/Date(ms)\/").
// kFile: what the guest agent reads from <statusFolder>/<N>.status, shaped as the real extension writes it: name,
// operation, status, code, formattedMessage, taskId, commandStartTimeUTCTicks, and substatus[0] = {code "0",
// status "success", name = the kBlob document as text}; for vmType kVmTypeArm (settings.h: Azure Resource Manager
// VMs) a terminal status reads "success", as the real extension writes it, so the agent does not mark the handler
// failed (the outcome itself travels to the host in substatus[0]).
enum class StatusForm { kFile, kBlob };

std::string RenderStatus(const JobStatus& status, absl::Time now, StatusForm form);

// Writes <folder>/<seq>.status atomically (temp file + rename), mode 0644 (it holds no secrets).
absl::Status WriteStatusFile(const std::string& folder, int seq, const std::string& json);

// Reads a status file or status blob (a one-element JSON array; the blob's "\/Date(ms)\/" form included) for the
// extension's own tools (fixture replay); a status file yields the document in its substatus[0], the one the host
// receives. kInvalidArgument naming `what` when it is not JSON of that shape, kDataLoss when the array does not hold
// exactly one status. (The backup service simulator reads statuses with its own code, not this.)
absl::StatusOr<proto::StatusDocument> ParseStatus(absl::string_view text, absl::string_view what);

// Writes `data` to a status/logs blob as the Linux twin does: a page blob is cleared and written in 512-byte pages
// (the last one padded with NULs) up to its size; anything else (or a blob that does not exist) gets Put Blob.
// `known`, when given, carries what the first upload of a job learned about the blob (its type and size) to the
// next, which then skips asking again.
absl::Status UploadReportBlob(blob::BlobClient& client, const blob::BlobUri& uri, const std::string& data,
                              std::optional<blob::BlobProperties>* known = nullptr);

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_STATUS_REPORT_H_
