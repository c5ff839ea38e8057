// The handler contract's inputs: HandlerEnvironment.json, <configFolder>/<N>.settings (public settings plus
// protected settings CMS-encrypted to the VM's certificate), objectStr and commandStartTimeUTCTicks.
//
// Every error carries the extension code to report (see CodeOf): 11 for bad parameters, 16 for a missing
// certificate, and says what is wrong and how to fix it. Secrets never appear in messages.
#ifndef VMBACKUP_SNAPSHOT_SETTINGS_H_
#define VMBACKUP_SNAPSHOT_SETTINGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/blob/blob_client.h"
#include "common/blob/blob_uri.h"
#include "snapshot/error_codes.h"

namespace vmb::snapshot {

struct HandlerFolders {
  std::string name;
  std::string version;
  std::string log_folder;
  std::string config_folder;
  std::string status_folder;
  std::string heartbeat_file;
  std::string events_folder;
};

// Parses HandlerEnvironment.json (a one-element array). Code 11 for a missing file or missing folders.
absl::StatusOr<HandlerFolders> LoadHandlerEnvironment(const std::string& path);
// The same for the file's text; `name` is used in messages.
absl::StatusOr<HandlerFolders> ParseHandlerEnvironment(absl::string_view text, absl::string_view name);

// .NET ticks: 100 ns units since 0001-01-01T00:00:00Z.
inline constexpr int64_t kUnixEpochTicks = 621355968000000000;
absl::Time TicksToTime(int64_t ticks);
int64_t TimeToTicks(absl::Time t);

struct CommandTicks {
  int64_t ticks = 0;
  // Half the width of the interval the text pins down: 0 for an integer, 0.5e12 ticks (~14 h) for "6.36458E+17".
  absl::Duration uncertainty;
};

// Accepts "636458000000000000" and the display form "6.36458E+17" (any case, optional sign on the exponent), also
// with blanks (spaces, no-break spaces) around the "E" and the sign as the seeds' sv and fr samples print it,
// "6.36458E + 17", which is the same number. Code 11 otherwise.
absl::StatusOr<CommandTicks> ParseTicks(absl::string_view text);

struct ObjectStrContent {
  std::vector<std::string> blob_sas_uris;                     // as given
  std::vector<std::pair<std::string, std::string>> metadata;  // backupMetadata Key/Value
};

// objectStr is base64 of JSON (optionally wrapped in single quotes, with whitespace) or the JSON itself, with
// `\/` escapes allowed. Code 11 when neither decodes to {"blobSASUri":[...]}.
absl::StatusOr<ObjectStrContent> ParseObjectStr(absl::string_view text);

// publicSettings.vmType values the extension serves, compared ignoring case as Azure compares resource types: the
// real extension's VmTypeV2 and VmTypeV1 (VMBackup common.py); the seeds' sample is the first.
inline constexpr char kVmTypeArm[] = "microsoft.compute/virtualmachines";
inline constexpr char kVmTypeClassic[] = "microsoft.classiccompute/virtualmachines";

// OK for kVmTypeArm, kVmTypeClassic (any case) and an absent vmType (the seeds do not list it among the required
// settings); code 11 naming the value and the accepted ones otherwise.
absl::Status CheckVmType(absl::string_view vm_type);

// The highest N of <configFolder>/<N>.settings; code 11 when there is none.
absl::StatusOr<int> LatestSequenceNumber(const std::string& config_folder);

struct JobSettings {
  int seq = 0;
  std::string locale;
  std::string task_id;
  std::string command;
  std::string ticks_text;
  std::string vm_type;
  std::string custom_settings;
  std::vector<blob::BlobUri> disks;
  blob::Metadata snapshot_metadata;  // backupMetadata -> x-ms-meta-*
  std::optional<blob::BlobUri> status_blob;
  std::optional<blob::BlobUri> logs_blob;
  bool had_protected_settings = false;
};

// Reads <configFolder>/<seq>.settings, decrypts the protected settings with <cert_dir>/<THUMBPRINT>.crt/.prv, and
// (when it held protected settings) rewrites the file without them, mode 0600. Code 11 when publicSettings.taskId is
// missing or vmType is not one CheckVmType accepts (both judged once the status blob is known, so the refusal reaches
// it). On error, `partial` (if non-null) receives whatever was readable (locale, task id, status blob) so the failure
// can still be reported.
absl::StatusOr<JobSettings> LoadJobSettings(const std::string& config_folder, int seq, const std::string& cert_dir,
                                            JobSettings* partial = nullptr);

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_SETTINGS_H_
