// Shared set-up of the offline seeding benchmarks.
#ifndef VMBACKUP_OFFLINE_SEED_BENCH_BENCH_UTIL_H_
#define VMBACKUP_OFFLINE_SEED_BENCH_BENCH_UTIL_H_

#include <string>

#include "common/crypto/encoding.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"

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

}  // namespace vmb::offline::bench

#endif  // VMBACKUP_OFFLINE_SEED_BENCH_BENCH_UTIL_H_
