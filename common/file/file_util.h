// Whole-file reads and crash-safe writes. Files that hold secrets are written with mode 0600 from their first byte
// (the temporary file is created with that mode, then renamed), so no other user ever sees them readable.
#ifndef VMBACKUP_COMMON_FILE_FILE_UTIL_H_
#define VMBACKUP_COMMON_FILE_FILE_UTIL_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::file {

// kNotFound when missing, kPermissionDenied when unreadable; the message names the path and errno text.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` atomically (temp file in the same directory, fsync, rename, fsync of the directory).
// The file has exactly `mode` (umask is not applied). Overwrites an existing file.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, mode_t mode);

// Creates `path` and missing parents with `mode`; OK if it exists as a directory.
absl::Status MakeDirs(const std::string& path, mode_t mode = 0755);

// The names in folder `dir` (not . and ..), sorted bytewise. An error names the folder (kNotFound when absent).
absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir);

// Where a run keeps its scratch files on this computer: $TMPDIR when set, else /var/tmp.
std::string ScratchFolder();

// A status for a failed syscall: "<what> <path>: <strerror>" with the matching absl code.
absl::Status ErrnoStatus(int err, absl::string_view what, absl::string_view path);

}  // namespace vmb::file

#endif  // VMBACKUP_COMMON_FILE_FILE_UTIL_H_
