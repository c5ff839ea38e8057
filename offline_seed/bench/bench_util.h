// Shared set-up of the offline seeding benchmarks.
#ifndef VMBACKUP_OFFLINE_SEED_BENCH_BENCH_UTIL_H_
#define VMBACKUP_OFFLINE_SEED_BENCH_BENCH_UTIL_H_

#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "simulators/sata/drive.h"

namespace vmb::offline::bench {

// CPU time (user + system, seconds) a process has used so far, from /proc/<pid>/stat; -1 when it cannot be read.
inline double CpuSeconds(pid_t pid) {
  absl::StatusOr<std::string> stat = file::ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat.ok()) return -1;
  size_t paren = stat->rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return -1;
  std::vector<std::string> fields = absl::StrSplit(stat->substr(paren + 2), ' ');
  uint64_t user = 0, sys = 0;
  // Fields 14 and 15 of the line (utime, stime); the split starts at field 3.
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &user) || !absl::SimpleAtoi(fields[12], &sys)) return -1;
  return static_cast<double>(user + sys) / ::sysconf(_SC_CLK_TCK);
}

// A .publishsettings file for subscription "sub" with a management certificate made by openssl; returns its path.
inline std::string MakePublishSettings(const std::string& dir) {
  std::string key = dir + "/k.pem", crt = dir + "/c.pem", p12 = dir + "/m.p12";
  process::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-subj",
                       "/CN=m", "-days", "1"})
      .IgnoreError();
  process::RunCommand({"openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", p12, "-passout", "pass:"})
      .IgnoreError();
  std::string publish = dir + "/p.publishsettings";
  (void)file::WriteFileAtomic(
      publish,
      "<PublishData><PublishProfile><Subscription Id=\"sub\" Name=\"b\" ManagementCertificate=\"" +
          crypto::Base64Encode(file::ReadFile(p12).value_or("")) + "\"/></PublishProfile></PublishData>",
      0600);
  return publish;
}

// The drive spec the benchmarks use: a 2.5" SATA III SSD named `name` with room for `staged` bytes and 1 GiB more.
inline sata::proto::DriveSpec BenchDrive(const std::string& name, uint64_t staged) {
  sata::proto::DriveSpec spec;
  spec.set_name(name);
  spec.set_model("Bench SSD");
  spec.set_serial("B-" + name);
  spec.set_capacity((staged + (64ull << 20)) / 4096 * 4096 + (1ull << 30));
  spec.set_interface("sata3");
  spec.set_formfactor("2.5");
  spec.set_media("ssd");
  return spec;
}

}  // namespace vmb::offline::bench

#endif  // VMBACKUP_OFFLINE_SEED_BENCH_BENCH_UTIL_H_
