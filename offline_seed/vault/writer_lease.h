// One writer per protected item: the lease on "<item>/writer.lock" that Vault::Seed and Vault::Backup hold from start
// to commit, and the stale-lock rule that frees an item whose last writer on this computer died.
#ifndef VMBACKUP_OFFLINE_SEED_VAULT_WRITER_LEASE_H_
#define VMBACKUP_OFFLINE_SEED_VAULT_WRITER_LEASE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/blob/blob_client.h"
#include "common/time/clock.h"

namespace vmb::vault {

// A 60 s lease on the lock blob, renewed every 15 s by a thread while the writer runs and released (with its record)
// when the object goes. A run that dies leaves a lease that expires within 60 s. The holder's host, process, start
// time and a random token are the lock's metadata, for the message the next writer gets and for the stale rule.
class WriterLease {
 public:
  static constexpr int kSeconds = 60;

  // Takes the lease on `lock` (made if absent). A holder that is alive: kFailedPrecondition ("another backup of
  // <item> is running since ..."). A holder recorded on this computer whose process is gone (or this process, when
  // it no longer holds that lease) is broken, but only if its record is unchanged after `clock` waited 2 s (a run
  // that has just taken the lease writes its record at once: restic's rule for stale locks). `clock` also stamps
  // the record's start time.
  static absl::StatusOr<std::unique_ptr<WriterLease>> Acquire(blob::BlobClient* client, const blob::BlobUri& lock,
                                                              const std::string& item, Clock& clock);

  ~WriterLease();
  WriterLease(const WriterLease&) = delete;
  WriterLease& operator=(const WriterLease&) = delete;

  // Renews now: kAborted when the lease was lost (the run stalled past its expiry and another writer took over).
  absl::Status Check();

 private:
  WriterLease(blob::BlobClient* client, blob::BlobUri lock, std::string id, std::string token);
  void Renew();

  blob::BlobClient* client_;
  blob::BlobUri lock_;
  std::string id_, token_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread renewer_;
};

// The record's start time, as the lock's metadata and recovery points write it: "2026-12-02T19:54:24Z" (UTC).
std::string FormatUtc(absl::Time t);

}  // namespace vmb::vault

#endif  // VMBACKUP_OFFLINE_SEED_VAULT_WRITER_LEASE_H_
