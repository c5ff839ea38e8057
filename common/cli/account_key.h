// A storage account key for a command-line tool, never from its command line (where `ps` shows it to every user):
// from --account-key-file FILE, else $VMBACKUP_ACCOUNT_KEY_FILE, else, for the storage emulator's published account
// (devstoreaccount1) only, its published key.
#ifndef VMBACKUP_COMMON_CLI_ACCOUNT_KEY_H_
#define VMBACKUP_COMMON_CLI_ACCOUNT_KEY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::cli {

// kInvalidArgument with the way out when there is no key for `account`; kPermissionDenied when the file can be read
// by group or others (chmod 600). Surrounding whitespace is dropped. With an empty `account` and no file: "" (the
// caller picks the emulator key per account later).
absl::StatusOr<std::string> ReadAccountKey(absl::string_view account, const std::string& key_file_flag);

}  // namespace vmb::cli

#endif  // VMBACKUP_COMMON_CLI_ACCOUNT_KEY_H_
