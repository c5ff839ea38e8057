#include "common/cli/account_key.h"

#include <sys/stat.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/blob/dev_account.h"
#include "common/file/file_util.h"

namespace vmb::cli {

absl::StatusOr<std::string> ReadAccountKey(absl::string_view account, const std::string& key_file_flag) {
  std::string path = key_file_flag;
  if (path.empty() && std::getenv("VMBACKUP_ACCOUNT_KEY_FILE")) path = std::getenv("VMBACKUP_ACCOUNT_KEY_FILE");
  if (path.empty()) {
    if (account.empty()) return std::string();  // the caller decides later, per account
    if (account == blob::kDevAccountName) return std::string(blob::kDevAccountKey);
    return absl::InvalidArgumentError(absl::StrCat("no key for storage account ", account,
                                                   ": pass --account-key-file FILE (or set VMBACKUP_ACCOUNT_KEY_FILE), "
                                                   "a file holding the key that only you can read (chmod 600)"));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return file::ErrnoStatus(errno, "cannot read the account key file", path);
  if (st.st_mode & 077) {
    return absl::PermissionDeniedError(
        absl::StrFormat("the account key file %s can be read by other users (mode %03o); "
                        "run chmod 600 %s",
                        path, st.st_mode & 0777, path));
  }
  absl::StatusOr<std::string> key = file::ReadFile(path);
  if (!key.ok()) return key.status();
  std::string trimmed(absl::StripAsciiWhitespace(*key));
  if (trimmed.empty()) return absl::InvalidArgumentError(absl::StrCat("the account key file ", path, " is empty"));
  return trimmed;
}

}  // namespace vmb::cli
