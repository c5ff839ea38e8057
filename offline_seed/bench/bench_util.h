// Shared set-up of the offline seeding benchmarks.
#ifndef VMBACKUP_OFFLINE_SEED_BENCH_BENCH_UTIL_H_
#define VMBACKUP_OFFLINE_SEED_BENCH_BENCH_UTIL_H_

#include <string>

#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"
#include "simulators/sata/drive.h"

namespace vmb::offline::bench {

// A .publishsettings file for subscription "sub" with a management certificate made by openssl; returns its path.
inline std::string MakePublishSettings(const std::string& dir) {
  std::string key = dir + "/k.pem", crt = dir + "/c.pem", p12 = dir + "/m.p12";
  process::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-subj",
                       "/CN=m", "-days", "1"}).IgnoreError();
  process::RunCommand({"openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", p12, "-passout", "pass:"})
      .IgnoreError();
  std::string publish = dir + "/p.publishsettings";
  (void)file::WriteFileAtomic(publish,
                              "<PublishData><PublishProfile><Subscription Id=\"sub\" Name=\"b\" ManagementCertificate=\"" +
                                  crypto::Base64Encode(file::ReadFile(p12).value_or("")) +
                                  "\"/></PublishProfile></PublishData>",
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
