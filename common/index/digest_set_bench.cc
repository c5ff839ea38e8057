// The on-disk digest set at backup sizes: inserts (in batches of 4096, as the chunker adds a batch's new chunks)
// and lookups per second, the file's size and the process's peak RSS, at 1, 4 and 16 million digests (a tree of a
// million small files; 4 and 16 TB in 1 MiB chunks). Run:  bazel run -c opt //common/index:digest_set_bench [-- N...]
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/index/digest_set.h"

namespace {

double PeakRssMiB() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

std::string Digest(uint64_t i) { return vmb::crypto::Base16Encode(vmb::crypto::Sha256(absl::StrCat("chunk ", i))); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint64_t> sizes = {1000000, 4000000, 16000000};
  if (argc > 1) {
    sizes.clear();
    for (int i = 1; i < argc; ++i) {
      uint64_t n = 0;
      if (!absl::SimpleAtoi(argv[i], &n)) {
        std::fprintf(stderr, "usage: digest_set_bench [COUNT...]\n");
        return 2;
      }
      sizes.push_back(n);
    }
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/var/tmp", "/digest_set_bench.", ::getpid());
  std::printf("digest set (SQLite, 16 MiB page cache) in %s\n", path.c_str());
  std::printf("%12s %14s %14s %12s %14s\n", "digests", "inserts/s", "lookups/s", "file MiB", "peak RSS MiB");
  for (uint64_t n : sizes) {
    auto set = vmb::index::DigestSet::Open(path);
    if (!set.ok()) {
      std::fprintf(stderr, "%s\n", std::string(set.status().message()).c_str());
      return 1;
    }
    absl::Time start = absl::Now();
    std::vector<std::string> batch;
    for (uint64_t i = 0; i < n; ++i) {
      batch.push_back(Digest(i));
      if (batch.size() == 4096 || i + 1 == n) {
        if (!(*set)->Insert(std::move(batch)).ok()) return 1;
        batch.clear();
      }
    }
    const double insert_s = absl::ToDoubleSeconds(absl::Now() - start);
    const uint64_t lookups = 200000;
    start = absl::Now();
    uint64_t found = 0;
    for (uint64_t i = 0; i < lookups; ++i) found += (*set)->Contains(Digest(i * 7919 % (2 * n))).value_or(false);
    const double lookup_s = absl::ToDoubleSeconds(absl::Now() - start);
    struct stat st {};
    ::stat(path.c_str(), &st);
    std::printf("%12llu %14.0f %14.0f %12.1f %14.1f   (%llu of %llu lookups found)\n",
                static_cast<unsigned long long>(n), n / insert_s, lookups / lookup_s, st.st_size / 1048576.0,
                PeakRssMiB(), static_cast<unsigned long long>(found), static_cast<unsigned long long>(lookups));
    std::fflush(stdout);
  }
  ::unlink(path.c_str());
  return 0;
}
