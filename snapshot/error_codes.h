// The extension's status codes (the Linux twin's numbers, so the backup service reads them the same way), with a
// message per code in the seeds' five languages. The one table lives in error_codes.cc; README lists it.
#ifndef VMBACKUP_SNAPSHOT_ERROR_CODES_H_
#define VMBACKUP_SNAPSHOT_ERROR_CODES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace vmb::snapshot {

enum Code : int {
  kSuccessAppConsistent = 0,
  kSuccess = 1,  // success, not application-consistent (file-system or crash consistency; see snapshotConsistency)
  kError = 2,
  kAlreadyProcessed = 3,
  kTransitioning = 4,
  kBadParameter = 11,
  kWrongTime = 13,
  kHttpFailure = 15,
  kCertificateNotFound = 16,
  kSnapshotFailedAll = 76,
  kSnapshotFailedSome = 761,
  kSnapshotCountExceeded = 85,
  kSnapshotRateExceeded = 173,
  kFreezeFailed = 121,
  kFreezeTimeout = 122,
  kUnableToOpenMount = 123,
  kVssWriterInBadState = 125,  // ExtensionFailedVssWriterInBadState (this implementation's number)
  kSnapshotInProgress = 126,   // a second freeze while one is held
  kPreScriptFailed = 300,
  kPostScriptFailed = 301,
  kCommandTooLate = 402,
};

// snapshotConsistency values in the job message.
enum Consistency : int {
  kConsistencyNone = 0,
  kApplicationConsistent = 1,
  kFileSystemConsistent = 2,
  kCrashConsistent = 3,
};

struct CodeInfo {
  int code;
  const char* name;  // the twin's identifier, e.g. "FailedGuestAgentInvokedCommandTooLate"
  bool is_error;
};

// Info for `code`; codes 300-318 (pre/post script failures) share one entry per range. Unknown codes map to kError.
const CodeInfo& InfoFor(int code);
const std::vector<CodeInfo>& AllCodes();

// The localized headline for `code` in `locale` ("de-de", "nl-NL", "sv", "fr-fr", "en-us"; language part only,
// case-insensitive; anything else falls back to English). `detail` is appended after ": " when non-empty.
std::string LocalizedMessage(int code, absl::string_view locale, absl::string_view detail = "");

// Attaches / reads the extension code of a status (default when none is attached).
absl::Status WithCode(absl::Status status, int code);
int CodeOf(const absl::Status& status, int default_code);

// "en-US", "de-DE", ... as written into formattedMessage.lang.
std::string LangTag(absl::string_view locale);

}  // namespace vmb::snapshot

#endif  // VMBACKUP_SNAPSHOT_ERROR_CODES_H_
