// An in-memory, stateful fake of the Blob REST API (the subset BlobClient speaks), served through an HttpTransport,
// in the spirit of tensorstore's gcs_mock: containers, block blobs with staged blocks, sparse page blobs, snapshots,
// metadata, listing with markers, ranges, Content-MD5 checks, Azure-shaped error bodies, and seeded error
// injection. Requests are recorded. Authentication is only checked for presence (a SAS `sig=` or an Authorization
// header): signature correctness is proven against Azurite and the SDK vectors instead.
#ifndef VMBACKUP_COMMON_BLOB_TESTING_FAKE_BLOB_SERVICE_H_
#define VMBACKUP_COMMON_BLOB_TESTING_FAKE_BLOB_SERVICE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/concurrent/mutex.h"
#include "common/http/http_transport.h"

namespace vmb::blob::testing {

class FakeBlobService : public http::HttpTransport {
 public:
  FakeBlobService() = default;

  absl::StatusOr<http::HttpResponse> Send(const http::HttpRequest& request) override;

  // The next `count` requests fail with `http_status` and Azure `code` (e.g. 503 "ServerBusy"); a status of 0
  // makes them fail as connection resets instead.
  void FailNext(int count, int http_status, std::string code);

  std::vector<http::HttpRequest> requests();
  int request_count();

 private:
  struct Blob {
    std::string type;                       // BlockBlob / PageBlob
    std::string data;                       // block blobs
    std::map<uint64_t, std::string> pages;  // page blobs: 512-byte pages that hold data
    uint64_t size = 0;
    std::map<std::string, std::string> metadata;
    std::map<std::string, std::string> staged;     // block id -> data
    std::map<std::string, std::string> committed;  // the last Put Block List's blocks: id -> data
    std::string etag;
    std::string content_md5;
    int64_t last_modified = 0;
  };
  struct Container {
    std::map<std::string, Blob> blobs;                             // by name
    std::map<std::string, std::map<std::string, Blob>> snapshots;  // name -> snapshot id -> frozen copy
  };

  http::HttpResponse Handle(const http::HttpRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NextEtag() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NextSnapshotId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::string Content(const Blob& blob);

  Mutex mu_;
  std::map<std::string, Container> containers_ ABSL_GUARDED_BY(mu_);  // "account/container"
  std::vector<http::HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
  int fail_count_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_status_ ABSL_GUARDED_BY(mu_) = 0;
  std::string fail_code_ ABSL_GUARDED_BY(mu_);
  int64_t counter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vmb::blob::testing

#endif  // VMBACKUP_COMMON_BLOB_TESTING_FAKE_BLOB_SERVICE_H_
