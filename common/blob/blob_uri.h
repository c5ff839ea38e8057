// Azure blob and container URIs, with or without a SAS: the form in which the backup service hands disks, the
// status blob and the logs blob to the extension (seed 000's objectStr, statusBlobUri, logsBlobUri).
//
// Both addressing styles are understood:
//   host style  https://<account>.blob.core.windows.net/<container>/<blob>?<sas>
//   path style  http://127.0.0.1:10000/<account>/<container>/<blob>?<sas>   (Azurite, IP hosts)
#ifndef VMBACKUP_COMMON_BLOB_BLOB_URI_H_
#define VMBACKUP_COMMON_BLOB_BLOB_URI_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/http/url.h"

namespace vmb::blob {

class BlobUri {
 public:
  // Parses an account, container or blob URI. `snapshot=` is lifted out of the query; everything else in the query
  // is kept verbatim as the SAS. kInvalidArgument names what is wrong (never echoing the signature).
  static absl::StatusOr<BlobUri> Parse(absl::string_view uri);

  // An account endpoint (no container) for Shared Key clients: "http://127.0.0.1:10000/devstoreaccount1".
  static absl::StatusOr<BlobUri> ForAccount(absl::string_view endpoint);

  const std::string& account() const { return account_; }
  const std::string& container() const { return container_; }
  const std::string& blob() const { return blob_; }          // decoded name, may contain '/'
  const std::string& snapshot() const { return snapshot_; }  // "" for the base blob
  const std::string& sas() const { return sas_; }            // raw query without "snapshot=", "" if none
  bool is_blob() const { return !blob_.empty(); }
  bool has_signature() const;

  // Decoded SAS parameter (e.g. "se", "sp", "sv"), or nullopt.
  std::optional<std::string> SasParam(absl::string_view name) const;
  // The SAS expiry (`se`), if present and parsable.
  std::optional<absl::Time> SasExpiry() const;

  // OK when the URI carries a SAS signature that has not expired at `now`. Errors:
  //   kPermissionDenied  "... has no SAS signature (sig=) ..." / "... SAS expired at <se> (now <now>) ..."
  //   kInvalidArgument   unparsable `se`
  absl::Status CheckSasUsable(absl::Time now) const;

  // Resource URL without query: ".../container" or ".../container/blob" (blob percent-encoded, '/' kept).
  std::string ResourceUrl() const;
  // ResourceUrl plus `params` (encoded here), the snapshot (if any, and `include_snapshot`) and the SAS.
  std::string RequestUrl(const std::vector<std::pair<std::string, std::string>>& params = {},
                         bool include_snapshot = true) const;

  BlobUri WithContainer(absl::string_view container) const;  // drops blob and snapshot, keeps the SAS
  BlobUri WithBlob(absl::string_view blob) const;            // same container and SAS, no snapshot
  BlobUri WithSnapshot(absl::string_view snapshot) const;
  BlobUri WithSas(absl::string_view sas) const;

  // The full URI with the signature replaced by REDACTED: safe for logs, errors and status.
  std::string Redacted() const;
  // The full URI including the SAS: a secret; only for sending or for the file meant to hold it.
  std::string ToString() const;

 private:
  http::Url url_;  // origin parts
  bool path_style_ = false;
  std::string account_;
  std::string container_;
  std::string blob_;
  std::string snapshot_;
  std::string sas_;
};

// Loose check for an Azure metadata name (a C# identifier), as x-ms-meta-<name> requires.
bool IsValidMetadataName(absl::string_view name);

}  // namespace vmb::blob

#endif  // VMBACKUP_COMMON_BLOB_BLOB_URI_H_
