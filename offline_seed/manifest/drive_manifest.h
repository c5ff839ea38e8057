// The DriveManifest XML the Import/Export service reads from each drive (format version 2014-11-01): which file on
// the drive becomes which blob, and for page blobs every data range with the MD5 of its plaintext (base16), so the
// datacenter can check each range before writing it.
//
//   <DriveManifest Version="2014-11-01"><Drive><DriveId>…</DriveId>
//     <BlobList><Blob><BlobPath>container/blob</BlobPath><FilePath>\data\file</FilePath><Length>…</Length>
//       <ImportDisposition>overwrite</ImportDisposition>
//       <PageRangeList><PageRange Offset="0" Length="4194304" Hash="…"/>…</PageRangeList>
//     </Blob></BlobList></Drive></DriveManifest>
#ifndef VMBACKUP_OFFLINE_SEED_MANIFEST_DRIVE_MANIFEST_H_
#define VMBACKUP_OFFLINE_SEED_MANIFEST_DRIVE_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vmb::offline::manifest {

inline constexpr char kManifestVersion[] = "2014-11-01";
inline constexpr uint64_t kMaxRange = 4u << 20;

struct PageRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string md5_hex;  // 32 hex digits, MD5 of the plaintext of the range
  bool operator==(const PageRange& o) const { return offset == o.offset && length == o.length && md5_hex == o.md5_hex; }
};

struct BlobEntry {
  std::string blob_path;                         // relative to the account: "container/blob"
  std::string file_path;                         // on the drive
  uint64_t length = 0;                           // the page blob's size
  std::string import_disposition = "overwrite";  // rename | no-overwrite | overwrite
  std::vector<PageRange> ranges;
};

struct DriveManifest {
  std::string drive_id;
  std::vector<BlobEntry> blobs;
};

// Checks the rules the service enforces: ranges 512-aligned, at most 4 MiB, sorted, non-overlapping, inside the
// blob, hashes 32 hex digits; blob lengths multiples of 512; unique blob paths. kInvalidArgument naming blob and
// range.
absl::Status Validate(const DriveManifest& manifest);

// Serializes (after Validate). Hashes are written upper-case, as the Import/Export tool does.
absl::StatusOr<std::string> Serialize(const DriveManifest& manifest);

// Parses and validates. kDataLoss for text that is not a DriveManifest XML; kInvalidArgument for rule violations.
absl::StatusOr<DriveManifest> Parse(absl::string_view xml);

}  // namespace vmb::offline::manifest

#endif  // VMBACKUP_OFFLINE_SEED_MANIFEST_DRIVE_MANIFEST_H_
