#include "simulators/vss/workload.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/crypto/digest.h"

namespace vmb::vss {
namespace {

constexpr size_t kRecord = 512;

std::string DataRecord(uint64_t id) {
  std::string r(kRecord, '\0');
  std::memcpy(r.data(), "DATA", 4);
  std::memcpy(r.data() + 4, &id, 8);
  // Payload derived from the id, so a record can be checked on its own.
  std::string seed = crypto::Sha256(absl::StrCat("payload-", id));
  for (size_t i = 12; i < kRecord; ++i) r[i] = seed[i % seed.size()];
  return r;
}

std::string LogRecord(uint64_t id, const std::string& data) {
  std::string r(kRecord, '\0');
  std::memcpy(r.data(), "LOG!", 4);
  std::memcpy(r.data() + 4, &id, 8);
  std::string md5 = crypto::Md5(data);
  std::memcpy(r.data() + 12, md5.data(), md5.size());
  return r;
}

uint64_t IdOf(absl::string_view record) {
  uint64_t id = 0;
  std::memcpy(&id, record.data() + 4, 8);
  return id;
}

}  // namespace

TwoDiskWorkload::TwoDiskWorkload(io::BlockDevice* log_disk, io::BlockDevice* data_disk, WorkloadLayout layout)
    : log_disk_(log_disk), data_disk_(data_disk), layout_(layout) {}

TwoDiskWorkload::~TwoDiskWorkload() { (void)Stop(); }

void TwoDiskWorkload::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

absl::Status TwoDiskWorkload::Stop() {
  stop_ = true;
  {
    MutexLock lock(&mu_);
    held_ = false;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(&mu_);
  return error_;
}

uint64_t TwoDiskWorkload::committed() {
  MutexLock lock(&mu_);
  return committed_;
}

void TwoDiskWorkload::Loop() {
  for (uint64_t id = 1; !stop_; ++id) {
    {
      MutexLock lock(&mu_);
      while (held_ && !stop_.load()) cv_.Wait(&mu_);
      if (stop_) return;
      in_txn_ = true;
    }
    uint64_t offset = layout_.first_byte + (id % layout_.slots) * kRecord;
    std::string data = DataRecord(id);
    absl::Status s = data_disk_->Write(offset, data);
    if (s.ok() && hook_) hook_(id);
    if (s.ok()) s = log_disk_->Write(offset, LogRecord(id, data));
    MutexLock lock(&mu_);
    in_txn_ = false;
    cv_.SignalAll();
    if (!s.ok()) {
      error_ = s;
      return;
    }
    committed_ = id;
  }
}

absl::Status TwoDiskWorkload::OnFreeze() {
  MutexLock lock(&mu_);
  held_ = true;
  while (in_txn_) cv_.Wait(&mu_);  // the transaction in flight completes; no new one starts
  return error_;
}

absl::Status TwoDiskWorkload::OnThaw() {
  MutexLock lock(&mu_);
  held_ = false;
  cv_.SignalAll();
  return absl::OkStatus();
}

ConsistencyReport CheckConsistency(absl::string_view log_area, absl::string_view data_area,
                                   const WorkloadLayout& layout) {
  ConsistencyReport report;
  for (uint64_t slot = 0; slot < layout.slots; ++slot) {
    absl::string_view log = log_area.substr(slot * kRecord, kRecord);
    absl::string_view data = data_area.substr(slot * kRecord, kRecord);
    bool has_log = log.substr(0, 4) == "LOG!", has_data = data.substr(0, 4) == "DATA";
    if (!has_log && !has_data) continue;
    std::string problem;
    if (has_log != has_data) {
      problem = has_data ? absl::StrCat("transaction ", IdOf(data), " has its data but no commit record")
                         : absl::StrCat("transaction ", IdOf(log), " has a commit record but no data");
    } else if (IdOf(log) != IdOf(data)) {
      problem =
          absl::StrCat("slot ", slot, ": commit record of transaction ", IdOf(log), " beside data of ", IdOf(data));
    } else if (log.substr(12, 16) != crypto::Md5(data)) {
      problem = absl::StrCat("transaction ", IdOf(log), ": data does not match its commit record's MD5");
    }
    if (problem.empty()) {
      ++report.transactions;
    } else {
      ++report.torn;
      if (report.first_problem.empty()) report.first_problem = problem;
    }
  }
  return report;
}

}  // namespace vmb::vss
