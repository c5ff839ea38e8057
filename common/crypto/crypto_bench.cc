// Throughput of our crypto wrappers beside `openssl speed -evp` measured in the same run.
//
//   bazel run -c opt //common/crypto:crypto_bench [-- --seconds=2]
//
// Prints MB/s (10^6 B/s) for MD5, SHA-256, AES-256-XTS over 4 KiB sectors, and MD5 per 4 MiB range + XTS together
// (the drive-prep inner loop), on 1 and 2 threads. The OpenSSL reference for the combined figure is the serial
// composition of its MD5 and XTS figures (1 / (1/md5 + 1/xts)). Target: ours >= 0.9 x OpenSSL.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/bench/report.h"
#include "common/crypto/digest.h"
#include "common/crypto/random.h"
#include "common/crypto/xts.h"
#include "common/process/subprocess.h"

namespace vmb::crypto {
namespace {

constexpr size_t kRange = 4u << 20;  // 4 MiB, the manifest's MD5 range
constexpr size_t kSector = 4096;

// Runs `work` (which processes one 4 MiB range per call) on `threads` threads for `seconds`; returns MB/s.
double Measure(int threads, double seconds, const std::function<std::function<void()>()>& make_worker) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bytes{0};
  std::vector<std::thread> pool;
  absl::Time start = absl::Now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, work = make_worker()] {
      uint64_t local = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        work();
        local += kRange;
      }
      bytes += local;
    });
  }
  absl::SleepFor(absl::Seconds(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  return static_cast<double>(bytes.load()) / elapsed / 1e6;
}

// `openssl speed -evp <alg>` in MB/s, or -1 if it cannot run.
double OpensslSpeed(const std::string& alg, int threads, int block, double seconds) {
  std::vector<std::string> argv = {
      "openssl",          "speed", "-mr", "-seconds", absl::StrCat(static_cast<int>(seconds + 0.5)), "-bytes",
      absl::StrCat(block)};
  if (threads > 1) {
    argv.push_back("-multi");
    argv.push_back(absl::StrCat(threads));
  }
  argv.push_back("-evp");
  argv.push_back(alg);
  absl::StatusOr<process::CommandResult> r = process::RunCommand(argv);
  if (!r.ok() || r->exit_code != 0) return -1;
  double value = -1;
  for (absl::string_view line : absl::StrSplit(r->stdout_data, '\n')) {
    if (!absl::StartsWith(line, "+F:")) continue;  // "+F:25:md5:728856307.07" (bytes/s; the -multi total last)
    std::vector<absl::string_view> f = absl::StrSplit(line, ':');
    double bps = 0;
    if (f.size() >= 4 && absl::SimpleAtod(f.back(), &bps)) value = bps / 1e6;
  }
  return value;
}

struct Row {
  std::string name;
  int threads;
  double ours;
  double reference;
};

}  // namespace
}  // namespace vmb::crypto

int main(int argc, char** argv) {
  using namespace vmb::crypto;
  double seconds = 0;
  vmb::bench::CommonFlags flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: crypto_bench [--seconds=N] [--quick] [--json=FILE]\n  Measures our MD5, SHA-256, AES-256-XTS "
          "and MD5+XTS throughput beside `openssl speed -evp` (MB/s = 10^6 B/s).\n");
      return 0;
    }
    if (vmb::bench::ParseCommonFlag(argv[i], &flags)) continue;
    if (absl::ConsumePrefix(&a, "--seconds=") && absl::SimpleAtod(a, &seconds) && seconds > 0) continue;
    std::fprintf(stderr, "crypto_bench: unknown argument %s (try --help)\n", argv[i]);
    return 2;
  }
  if (seconds == 0) seconds = flags.quick ? 0.5 : 2;
  const std::string data = SecureRandom().Bytes(kRange);
  const std::string key = SecureRandom().Bytes(XtsCipher::kKeySize);

  auto md5_worker = [&] {
    return std::function<void()>([&, d = std::make_shared<Digest>(DigestAlgorithm::kMd5)] {
      d->Update(data);
      d->Finish();
    });
  };
  auto sha_worker = [&] {
    return std::function<void()>([&, d = std::make_shared<Digest>(DigestAlgorithm::kSha256)] {
      d->Update(data);
      d->Finish();
    });
  };
  auto xts_worker = [&] {
    auto x = std::make_shared<XtsCipher>(*XtsCipher::Create(key, kSector));
    auto buf = std::make_shared<std::string>(data);
    return std::function<void()>([x, buf] { (void)x->EncryptSectors(0, buf->data(), buf->size()); });
  };
  auto both_worker = [&] {
    auto x = std::make_shared<XtsCipher>(*XtsCipher::Create(key, kSector));
    auto d = std::make_shared<Digest>(DigestAlgorithm::kMd5);
    auto buf = std::make_shared<std::string>(data);
    return std::function<void()>([x, d, buf, &data] {
      d->Update(data);  // MD5 of the plaintext range, as the manifest records it
      d->Finish();
      buf->assign(data);
      (void)x->EncryptSectors(0, buf->data(), buf->size());
    });
  };

  std::vector<Row> rows;
  for (int threads : {1, 2}) {
    double md5_ref = OpensslSpeed("md5", threads, 16384, seconds);
    double xts_ref = OpensslSpeed("aes-256-xts", threads, kSector, seconds);
    rows.push_back({"MD5", threads, Measure(threads, seconds, md5_worker), md5_ref});
    rows.push_back(
        {"SHA-256", threads, Measure(threads, seconds, sha_worker), OpensslSpeed("sha256", threads, 16384, seconds)});
    rows.push_back({"AES-256-XTS (4 KiB sectors)", threads, Measure(threads, seconds, xts_worker), xts_ref});
    double combined = md5_ref > 0 && xts_ref > 0 ? 1.0 / (1.0 / md5_ref + 1.0 / xts_ref) : -1;
    rows.push_back({"MD5 per 4 MiB + XTS", threads, Measure(threads, seconds, both_worker), combined});
  }
  vmb::bench::proto::Report report;
  for (const Row& r : rows) {
    std::string id =
        absl::StrCat("crypto.", absl::AsciiStrToLower(r.name.substr(0, r.name.find(' '))), ".", r.threads, "t");
    if (absl::StrContains(r.name, "+")) id = absl::StrCat("crypto.md5_xts.", r.threads, "t");
    *report.add_figures() = vmb::bench::AtLeastRatio(id, absl::StrCat(r.name, ", ", r.threads, " thread(s)"), r.ours,
                                                     "MB/s", r.reference, "openssl speed", 0.9);
  }
  absl::Status s = vmb::bench::Emit(report, flags);
  if (!s.ok()) {
    std::fprintf(stderr, "crypto_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
