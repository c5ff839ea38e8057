// Offline seeding throughput, beside references measured in the same run:
//   initial backup (seedagent initiate)  vs  `zstd -T2 -1` on the same bytes (speed and compressed size)
//   drive prep copy pass (diskprep)      vs  the machine's bound: min(MD5 + AES-256-XTS on 2 threads, a plain
//                                            sequential write of the same bytes to the same place)
// plus peak memory. Run:  bazel run -c opt //offline_seed/bench:offline_bench -- --gib=1
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/crypto/digest.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/crypto/xts.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/process/subprocess.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/diskprep/diskprep.h"
#include "simulators/import_export/client.h"
#include "simulators/import_export/control_plane.h"

namespace {

double Mbps(uint64_t bytes, absl::Duration d) { return bytes / absl::ToDoubleSeconds(d) / 1e6; }

long PeakRssMb() {
  rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

}  // namespace

int main(int argc, char** argv) {
  double gib = 1;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (a == "--help") {
      std::printf("usage: offline_bench [--gib=N]  (source size in GiB, default 1)\n");
      return 0;
    }
    if (!(absl::ConsumePrefix(&a, "--gib=") && absl::SimpleAtod(a, &gib) && gib > 0)) {
      std::fprintf(stderr, "offline_bench: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  std::string root = absl::StrCat(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", "/offline_bench.", ::getpid());
  std::string src = root + "/src", staging = root + "/staging", bay = root + "/bay";
  (void)vmb::file::MakeDirs(src);
  // Half text-like (compressible), half random, in 64 MiB files.
  uint64_t total = static_cast<uint64_t>(gib * (1ull << 30));
  FILE* all = std::fopen((root + "/all.bin").c_str(), "wb");  // the same bytes, for zstd
  std::string words = "offline seeding sends the initial backup on drives through the import export service ";
  for (uint64_t done = 0, n = 0; done < total; ++n) {
    uint64_t size = std::min<uint64_t>(64ull << 20, total - done);
    std::string data;
    if (n % 2 == 0) {
      while (data.size() < size) data += words + std::to_string(data.size()) + "\n";
      data.resize(size);
    } else {
      data = vmb::crypto::SecureRandom().Bytes(size);
    }
    (void)vmb::file::WriteFileAtomic(absl::StrCat(src, "/f", n), data, 0644);
    std::fwrite(data.data(), 1, data.size(), all);
    done += size;
  }
  std::fclose(all);
  long rss_before = PeakRssMb();

  // 1. Initial backup vs zstd -T2 -1.
  vmb::offline::InitiateOptions io;
  io.sources = {src};
  io.staging = staging;
  io.job.set_jobname("bench");
  io.job.set_subscriptionid("sub");
  io.job.set_storageaccount("acct");
  io.job.set_container("offline");
  io.threads = 2;
  absl::Time t0 = absl::Now();
  auto job = vmb::offline::InitiateOfflineBackup(io);
  absl::Duration ours = absl::Now() - t0;
  if (!job.ok()) {
    std::fprintf(stderr, "initiate: %s\n", std::string(job.status().message()).c_str());
    return 1;
  }
  t0 = absl::Now();
  auto z = vmb::process::RunCommand({"sh", "-c", "zstd -q -T2 -1 -c " + root + "/all.bin | wc -c"});
  absl::Duration zt = absl::Now() - t0;
  uint64_t zbytes = 0;
  if (z.ok()) absl::SimpleAtoi(absl::StripAsciiWhitespace(z->stdout_data), &zbytes);
  std::printf("%-44s %10s %12s %8s %s\n", "figure", "ours", "reference", "ratio", "target");
  std::printf("%-44s %10.0f %12.0f %8.2f >=0.90\n", "initial backup MB/s (vs zstd -T2 -1)", Mbps(total, ours),
              Mbps(total, zt), Mbps(total, ours) / Mbps(total, zt));
  std::printf("%-44s %10.3f %12.3f %8.2f within 2%%\n", "compressed / source (vs zstd -T2 -1)",
              static_cast<double>(job->stagedbytes()) / total, static_cast<double>(zbytes) / total,
              (static_cast<double>(job->stagedbytes()) / total) / (static_cast<double>(zbytes) / total));

  // 2. The bound: MD5 per 4 MiB + XTS on 2 threads, and a plain sequential write to the bay's file system.
  std::string range = vmb::crypto::SecureRandom().Bytes(4u << 20);
  std::string key = vmb::crypto::SecureRandom().Bytes(64);
  std::atomic<uint64_t> crypto_bytes{0};
  absl::Time c0 = absl::Now();
  std::vector<std::thread> pool;
  for (int t = 0; t < 2; ++t) {
    pool.emplace_back([&] {
      auto xts = *vmb::crypto::XtsCipher::Create(key, 4096);
      std::string buf = range;
      while (absl::Now() - c0 < absl::Seconds(2)) {
        vmb::crypto::Md5(buf);
        (void)xts.EncryptSectors(0, buf.data(), buf.size());
        crypto_bytes += buf.size();
      }
    });
  }
  for (auto& t : pool) t.join();
  double crypto_rate = Mbps(crypto_bytes, absl::Now() - c0);
  (void)vmb::file::MakeDirs(bay);
  uint64_t staged = job->stagedbytes();
  t0 = absl::Now();
  auto w = vmb::process::RunCommand({"dd", "if=/dev/zero", "of=" + bay + "/plain.bin", "bs=4M",
                                     absl::StrCat("count=", (staged >> 22) + 1), "conv=fdatasync", "status=none"});
  double write_rate = Mbps(((staged >> 22) + 1) << 22, absl::Now() - t0);
  ::unlink((bay + "/plain.bin").c_str());
  double bound = std::min(crypto_rate, write_rate);

  // 3. diskprep onto one simulated drive big enough for everything.
  vmb::ie::ControlPlane plane({root + "/plane", "tok"});
  std::string url = *plane.Start();
  auto transport = vmb::http::NewCurlTransport();
  vmb::ie::ImportExportClient client(transport.get(), url, "tok");
  (void)client.PutStorageAccount("sub", "offlinebackup", "acct", "westeurope");
  std::string key_pem = root + "/k.pem", crt = root + "/c.pem", p12 = root + "/m.p12";
  vmb::process::RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key_pem, "-out", crt,
                            "-subj", "/CN=m", "-days", "1"}).IgnoreError();
  vmb::process::RunCommand({"openssl", "pkcs12", "-export", "-in", crt, "-inkey", key_pem, "-out", p12, "-passout", "pass:"})
      .IgnoreError();
  std::string publish = root + "/p.publishsettings";
  (void)vmb::file::WriteFileAtomic(publish, "<PublishData><PublishProfile><Subscription Id=\"sub\" Name=\"b\" "
                                            "ManagementCertificate=\"" +
                                                vmb::crypto::Base64Encode(*vmb::file::ReadFile(p12)) +
                                                "\"/></PublishProfile></PublishData>", 0600);
  vmb::sata::DriveBay drives(bay);
  vmb::sata::proto::DriveSpec spec;
  spec.set_name("d1");
  spec.set_model("Bench SSD");
  spec.set_serial("B1");
  spec.set_capacity((staged + (64ull << 20)) / 4096 * 4096 + (1ull << 30));
  spec.set_interface("sata3");
  spec.set_formfactor("2.5");
  spec.set_media("ssd");
  (void)drives.Create(spec);
  vmb::offline::DiskPrepOptions o;
  o.staging = staging;
  o.publish_settings = publish;
  o.bay = bay;
  o.drives = {"d1"};
  o.control_plane = url;
  o.token = "tok";
  o.transport = transport.get();
  t0 = absl::Now();
  auto prep = vmb::offline::PrepareDrives(o);
  absl::Duration pt = absl::Now() - t0;
  if (!prep.ok()) {
    std::fprintf(stderr, "diskprep: %s\n", std::string(prep.status().message()).c_str());
    return 1;
  }
  std::printf("%-44s %10.0f %12.0f %8.2f >=0.90\n", "drive prep copy pass (MD5+XTS+write) MB/s",
              Mbps(staged, prep->copy_time), bound, Mbps(staged, prep->copy_time) / bound);
  std::printf("%-44s %10.0f %12s %8s\n", "drive prep verify pass MB/s", Mbps(staged, prep->verify_time), "-", "-");
  std::printf("%-44s %10.0f %12s %8s\n", "drive prep whole command MB/s", Mbps(staged, pt), "-", "-");
  std::printf("  bound parts: MD5+XTS 2 threads %.0f MB/s, sequential write %.0f MB/s\n", crypto_rate, write_rate);
  std::printf("%-44s %10ld %12s %8s <256\n", "peak memory MiB (process; data generation alone)", PeakRssMb(),
              absl::StrCat(rss_before).c_str(), "-");
  std::printf("source %.2f GB, staged %.2f GB; scratch in %s\n", total / 1e9, staged / 1e9, root.c_str());
  vmb::process::RunCommand({"rm", "-rf", root}).IgnoreError();
  return 0;
}
