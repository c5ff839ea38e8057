// A client for the Azure Blob REST API, over an HttpTransport (it never sees curl), authenticating with the SAS in
// each BlobUri or with a Shared Key credential. Every call retries per RetryOptions and returns a status built by
// StatusFromHttpResponse, so callers can branch on the HTTP and Azure error codes; URIs in messages are redacted.
#ifndef VMBACKUP_COMMON_BLOB_BLOB_CLIENT_H_
#define VMBACKUP_COMMON_BLOB_BLOB_CLIENT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/blob/blob_uri.h"
#include "common/blob/shared_key.h"
#include "common/http/http_transport.h"
#include "common/http/retry_policy.h"
#include "common/time/clock.h"

namespace vmb::blob {

using Metadata = std::map<std::string, std::string>;

inline constexpr uint64_t kPageSize = 512;
inline constexpr uint64_t kMaxPutPageBytes = 4u << 20;

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const ByteRange& o) const { return offset == o.offset && length == o.length; }
};

struct BlobProperties {
  uint64_t content_length = 0;
  std::string blob_type;  // "BlockBlob", "PageBlob", "AppendBlob"
  std::string etag;
  std::string content_md5;  // base64, when the service has one
  absl::Time last_modified;
  Metadata metadata;  // keys as returned (Azure preserves case)
};

struct BlobItem {
  std::string name;
  std::string snapshot;  // "" for the base blob
  BlobProperties properties;
};

struct ListOptions {
  std::string prefix;
  bool include_snapshots = false;
  bool include_metadata = false;
  int page_size = 0;  // maxresults per call; 0 = service default (5000)
};

struct UploadOptions {
  uint64_t block_size = 4u << 20;
  int parallelism = 4;
  Metadata metadata;
  std::string content_type = "application/octet-stream";
};

// Conditions on a write: a lease the blob holds (x-ms-lease-id), and "only if the blob does not exist yet"
// (If-None-Match: *; kAlreadyExists when it does).
struct WriteConditions {
  std::string lease_id;
  bool if_none_match_any = false;
};

struct BlobClientOptions {
  http::RetryOptions retry;
  absl::Duration request_timeout = absl::Seconds(120);
  Clock* clock = nullptr;  // RealClock() when null
};

// Thread-safe if the transport is (the curl transport is): calls may run concurrently.
class BlobClient {
 public:
  explicit BlobClient(http::HttpTransport* transport, std::optional<SharedKeyCredential> credential = std::nullopt,
                      BlobClientOptions options = {});

  // Containers. CreateContainer is OK when the container exists already.
  absl::Status CreateContainer(const BlobUri& container);
  absl::Status DeleteContainer(const BlobUri& container);

  // Block blobs. PutBlockBlob is one request (up to 5000 MiB per the service; use Upload for large data).
  absl::Status PutBlockBlob(const BlobUri& blob, absl::string_view data, const Metadata& metadata = {},
                            absl::string_view content_type = "application/octet-stream",
                            const WriteConditions& conditions = {});
  absl::Status PutBlock(const BlobUri& blob, absl::string_view block_id_base64, absl::string_view data);
  absl::Status PutBlockList(const BlobUri& blob, const std::vector<std::string>& block_ids_base64,
                            const Metadata& metadata = {}, absl::string_view content_type = "application/octet-stream");
  // Get Block List: the blob's uncommitted (staged, not yet in a Put Block List) blocks, as (base64 id, size).
  // An upload interrupted before its Put Block List resumes from these (they live a week in Azure).
  absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> GetUncommittedBlocks(const BlobUri& blob);
  // Get Block List of every block, committed and uncommitted, as (base64 id, size). A run that resumes after its
  // Put Block List went through reuses the committed ones too: Put Block List names blocks as Latest, which finds
  // either kind.
  absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> GetAllBlocks(const BlobUri& blob);
  // Put Block of `block_size` pieces on `parallelism` threads, then Put Block List.
  absl::Status UploadBlockBlob(const BlobUri& blob, absl::string_view data, const UploadOptions& options = {});

  // Page blobs. Offsets and lengths must be multiples of 512 (kInvalidArgument otherwise); PutPages writes at most
  // 4 MiB per call.
  absl::Status CreatePageBlob(const BlobUri& blob, uint64_t size, const Metadata& metadata = {});
  absl::Status PutPages(const BlobUri& blob, uint64_t offset, absl::string_view data);
  absl::Status ClearPages(const BlobUri& blob, uint64_t offset, uint64_t length);
  absl::StatusOr<std::vector<ByteRange>> GetPageRanges(const BlobUri& blob);

  // Reads. A `range` reads [offset, offset+length); the blob's snapshot (if any) is read.
  absl::StatusOr<std::string> GetBlob(const BlobUri& blob, std::optional<ByteRange> range = std::nullopt);
  absl::StatusOr<BlobProperties> GetProperties(const BlobUri& blob);
  absl::Status SetMetadata(const BlobUri& blob, const Metadata& metadata, const WriteConditions& conditions = {});

  // Lease Blob: an exclusive write lock on a blob for `seconds` (15 to 60, or -1 for ever), kept by renewing it.
  // AcquireLease returns the lease id; a blob leased by someone else gives the service's 409 LeaseAlreadyPresent
  // (see AzureErrorCodeOf). Renew fails once the lease expired and another took it.
  absl::StatusOr<std::string> AcquireLease(const BlobUri& blob, int seconds);
  absl::Status RenewLease(const BlobUri& blob, const std::string& lease_id);
  absl::Status ReleaseLease(const BlobUri& blob, const std::string& lease_id);
  // Ends whoever's lease the blob holds at once (break period 0), for a holder known to be dead.
  absl::Status BreakLease(const BlobUri& blob);

  // Lists every blob of `container` (following NextMarker).
  absl::StatusOr<std::vector<BlobItem>> ListBlobs(const BlobUri& container, const ListOptions& options = {});

  // Snapshot Blob with `metadata` (x-ms-meta-*); returns the snapshot's URI (same SAS, snapshot=<id>).
  absl::StatusOr<BlobUri> SnapshotBlob(const BlobUri& blob, const Metadata& metadata = {});

  // Deletes the blob (with `include_snapshots`, its snapshots too), or just the snapshot the URI names.
  absl::Status DeleteBlob(const BlobUri& blob, bool include_snapshots = false);

 private:
  // Get Block List of `type` (committed, uncommitted, all).
  absl::StatusOr<std::vector<std::pair<std::string, uint64_t>>> GetBlockList(const BlobUri& blob, const char* type);
  struct Call {
    const char* operation;
    const BlobUri* uri;
    std::string method;
    std::vector<std::pair<std::string, std::string>> params;
    http::Headers headers;
    absl::string_view body;
    bool include_snapshot = true;
  };
  absl::StatusOr<http::HttpResponse> Execute(const Call& call);
  static absl::Status AddMetadata(const Metadata& metadata, http::Headers* headers);

  http::HttpTransport* transport_;
  std::optional<SharedKeyCredential> credential_;
  BlobClientOptions options_;
  Clock* clock_;
};

// Base64 block id of fixed width for block `index` (Put Block requires equal-length ids within a blob).
std::string BlockId(uint64_t index);

}  // namespace vmb::blob

#endif  // VMBACKUP_COMMON_BLOB_BLOB_CLIENT_H_
