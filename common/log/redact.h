// Secret redaction for anything that may reach a log, an error message, a status file or a terminal.
//
// Removed: SAS signatures (`sig=` values in any URI or query string), Shared Key signatures and account keys
// (`Authorization: SharedKey account:sig`, `AccountKey=` in connection strings, `x-ms-...-key` style headers),
// BitLocker-format recovery passwords (48 digits in 8 groups), PEM private key blocks, and the `protectedSettings`
// value of handler settings JSON. Everything else is kept, so a redacted URI still says which blob failed.
#ifndef VMBACKUP_COMMON_LOG_REDACT_H_
#define VMBACKUP_COMMON_LOG_REDACT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vmb {

inline constexpr absl::string_view kRedacted = "REDACTED";

// Returns `text` with every secret above replaced by REDACTED.
std::string RedactSecrets(absl::string_view text);

}  // namespace vmb

#endif  // VMBACKUP_COMMON_LOG_REDACT_H_
