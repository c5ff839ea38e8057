#include "offline_seed/vault/writer_lease.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/status/http_status.h"
#include "common/status/status_macros.h"

namespace vmb::vault {
namespace {

// The tokens of the leases this process holds now.
std::set<std::string>& Live() {
  static auto* live = new std::set<std::string>();
  return *live;
}
std::mutex& LiveMu() {
  static auto* mu = new std::mutex();
  return *mu;
}

std::string HostName() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return host;
}

// The holder's record, as the lock's metadata says it ("?" for what is missing or unreadable).
struct Record {
  std::string host = "?", pid = "?", since = "?", token = "?";
};

Record ReadRecord(blob::BlobClient* client, const blob::BlobUri& lock) {
  Record r;
  absl::StatusOr<blob::BlobProperties> p = client->GetProperties(lock);
  if (!p.ok()) return r;
  auto get = [&](const char* k, std::string* out) {
    auto it = p->metadata.find(k);
    if (it != p->metadata.end()) *out = it->second;
  };
  get("host", &r.host);
  get("pid", &r.pid);
  get("since", &r.since);
  get("token", &r.token);
  return r;
}

// A holder on this computer whose process is gone, or this process when it no longer holds that lease.
bool Stale(const std::string& host, const Record& r) {
  int pid = 0;
  if (r.host != host || !absl::SimpleAtoi(r.pid, &pid) || pid <= 0) return false;
  if (pid == ::getpid()) {
    std::lock_guard<std::mutex> lock(LiveMu());
    return Live().count(r.token) == 0;
  }
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

absl::Status Refusal(const std::string& item, const Record& r) {
  std::string holder = r.since == "?" ? std::string(" (it has just started)")
                                      : absl::StrCat(" since ", r.since, " (host ", r.host, ", process ", r.pid, ")");
  return absl::FailedPreconditionError(
      absl::StrCat("another backup of ", item, " is running", holder,
                   "; this run stopped before writing anything. Wait "
                   "for it to finish (a run that died on another computer frees the item within ",
                   WriterLease::kSeconds, " s)"));
}

bool HeldByAnother(const absl::StatusOr<std::string>& id) {
  return AzureErrorCodeOf(id.status()) == "LeaseAlreadyPresent";
}

}  // namespace

std::string FormatUtc(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

absl::StatusOr<std::unique_ptr<WriterLease>> WriterLease::Acquire(blob::BlobClient* client, const blob::BlobUri& lock,
                                                                  const std::string& item, Clock& clock) {
  // The lock blob is made once; a put that loses to a holder's lease (412) is fine, the acquire below decides.
  if (absl::IsNotFound(client->GetProperties(lock).status())) (void)client->PutBlockBlob(lock, "");
  const std::string host = HostName();
  absl::StatusOr<std::string> id = client->AcquireLease(lock, kSeconds);
  if (HeldByAnother(id)) {
    Record holder = ReadRecord(client, lock);
    if (Stale(host, holder)) {
      // The record names a run on this computer that is gone (killed, or failed before it could let go). It is
      // read again a moment later, and only if it still names the gone run is the lease broken rather than waited
      // out.
      clock.SleepFor(absl::Seconds(2));
      Record again = ReadRecord(client, lock);
      if (again.token == holder.token && Stale(host, again)) {
        RETURN_IF_ERROR(client->BreakLease(lock));
        id = client->AcquireLease(lock, kSeconds);
      }
      holder = again;
    }
    if (HeldByAnother(id)) return Refusal(item, holder);
  }
  RETURN_IF_ERROR(id.status());
  std::string token = crypto::Base16Encode(crypto::SecureRandom().Bytes(16));
  auto lease = std::unique_ptr<WriterLease>(new WriterLease(client, lock, *id, token));
  RETURN_IF_ERROR(client->SetMetadata(
      lock, {{"host", host}, {"pid", absl::StrCat(::getpid())}, {"since", FormatUtc(clock.Now())}, {"token", token}},
      {*id, false}));
  return lease;
}

WriterLease::WriterLease(blob::BlobClient* client, blob::BlobUri lock, std::string id, std::string token)
    : client_(client), lock_(std::move(lock)), id_(std::move(id)), token_(std::move(token)), renewer_([this] {
        Renew();
      }) {
  std::lock_guard<std::mutex> guard(LiveMu());
  Live().insert(token_);
}

WriterLease::~WriterLease() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  renewer_.join();
  // The record goes with the lease: a record left behind names a run that did not end cleanly.
  (void)client_->SetMetadata(lock_, {}, {id_, false});
  (void)client_->ReleaseLease(lock_, id_);
  std::lock_guard<std::mutex> lock(LiveMu());
  Live().erase(token_);
}

absl::Status WriterLease::Check() {
  absl::Status s = client_->RenewLease(lock_, id_);
  if (s.ok()) return s;
  return absl::AbortedError(absl::StrCat("this backup lost its lock on the protected item (", s.message(),
                                         "); nothing was committed. Run the backup again"));
}

void WriterLease::Renew() {
  // Renewal is wall-clock work against the service's own 60 s expiry, so it waits on real time, not the clock.
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::seconds(15), [this] { return stop_; })) {
    lock.unlock();
    (void)client_->RenewLease(lock_, id_);  // a failure shows in Check before the commit
    lock.lock();
  }
}

}  // namespace vmb::vault
