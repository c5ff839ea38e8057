// The network half of offline seeding against a real Azurite, beside a plain client doing the same I/O in the same
// run (Azurite is the bottleneck here; we must not add a second one):
//   datacenter import (unlock, check, Put Page)  vs  plain Put Page of the same bytes, 4 MiB, 4 threads
//   vault copy (Get Blob, check every chunk, Put Block)  vs  plain Get Blob + Put Block of the same bytes, 4 threads
//   vault restore (Get Blob ranges, check, write files)  vs  plain ranged Get Blob of the same bytes, 4 threads
//   incremental backup after a 1% change: bytes sent vs the tree, time vs the initial backup to staging
// Run: bazel run -c opt //offline_seed/bench:flow_bench -- [--gib=N] [--quick] [--json=FILE]
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/bench/report.h"
#include "common/blob/blob_client.h"
#include "common/concurrent/bounded_pool.h"
#include "common/crypto/encoding.h"
#include "common/crypto/random.h"
#include "common/file/file_util.h"
#include "common/http/curl_transport.h"
#include "common/json/json.h"
#include "common/process/subprocess.h"
#include "common/status/status_macros.h"
#include "common/testing/azurite.h"
#include "offline_seed/agent/staging.h"
#include "offline_seed/bench/bench_util.h"
#include "offline_seed/diskprep/diskprep.h"
#include "offline_seed/diskprep/shipping.h"
#include "offline_seed/import_job/arm_client.h"
#include "offline_seed/vault/vault.h"
#include "simulators/import_export/control_plane.h"
#include "simulators/import_export/datacenter.h"
#include "simulators/import_export/sim_admin.h"
#include "simulators/sata/bay_drives.h"

namespace {

using vmb::blob::BlobClient;
using vmb::blob::BlobUri;

double Mbps(uint64_t bytes, absl::Duration d) { return bytes / std::max(1e-6, absl::ToDoubleSeconds(d)) / 1e6; }

int Fail(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "flow_bench: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
  return 1;
}

// `bytes` written as 4 MiB calls of `put` on 4 threads; returns the time taken.
absl::StatusOr<absl::Duration> Parallel(uint64_t bytes, const std::function<absl::Status(uint64_t offset)>& put) {
  absl::Time t0 = absl::Now();
  vmb::concurrent::BoundedPool pool(4);
  for (uint64_t off = 0; off < bytes; off += 4u << 20) pool.Submit([&put, off] { return put(off); });
  RETURN_IF_ERROR(pool.Wait());
  return absl::Now() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  double gib = 0;
  vmb::bench::CommonFlags flags;
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    if (a == "--help") {
      std::printf("usage: flow_bench [--gib=N] [--quick] [--json=FILE]  (source GiB, default 1; --quick: 0.25)\n");
      return 0;
    }
    if (vmb::bench::ParseCommonFlag(argv[i], &flags)) continue;
    if (!(absl::ConsumePrefix(&a, "--gib=") && absl::SimpleAtod(a, &gib) && gib > 0)) {
      std::fprintf(stderr, "flow_bench: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (gib == 0) gib = flags.quick ? 0.25 : 1;
  auto azurite = vmb::testing::Azurite::Start();
  if (!azurite.ok()) return Fail("azurite", azurite.status());
  std::string root = absl::StrCat(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp", "/flow_bench.", ::getpid());
  // Removed last, whichever way the run ends (a failed step once left an 8 GiB run's 29 GB of drives behind).
  absl::Cleanup remove_scratch = [&root] { vmb::process::RunCommand({"rm", "-rf", root}).IgnoreError(); };
  std::string src = root + "/src", staging = root + "/staging", bay = root + "/bay";
  (void)vmb::file::MakeDirs(src);
  // 100 files: half random, half text-like.
  uint64_t total = static_cast<uint64_t>(gib * (1ull << 30)), per_file = total / 100;
  std::string words = "offline seeding sends the initial backup on drives through the import export service ";
  for (int n = 0; n < 100; ++n) {
    std::string data;
    if (n % 2) {
      data = vmb::crypto::SecureRandom().Bytes(per_file);
    } else {
      while (data.size() < per_file) data += words + std::to_string(data.size()) + "\n";
      data.resize(per_file);
    }
    (void)vmb::file::WriteFileAtomic(absl::StrFormat("%s/f%03d", src, n), data, 0644);
  }
  total = per_file * 100;

  vmb::offline::InitiateOptions io;
  io.sources = {src};
  io.staging = staging;
  io.job.set_jobname("benchjob");
  io.job.set_subscriptionid("sub");
  io.job.set_storageaccount("acct");
  io.job.set_container("offline");
  io.job.set_publishsettingspath(vmb::offline::bench::MakePublishSettings(root));
  absl::Time t0 = absl::Now();
  auto job = vmb::offline::InitiateOfflineBackup(io);
  absl::Duration initial_time = absl::Now() - t0;
  if (!job.ok()) return Fail("initiate", job.status());
  uint64_t staged = job->stagedbytes();

  vmb::ie::ControlPlane plane({root + "/plane", "tok"});
  std::string url = *plane.Start();
  auto transport = vmb::http::NewCurlTransport();
  vmb::ie::SimAdmin client(transport.get(), url, "tok");
  (void)client.PutStorageAccount("sub", "offlinebackup", "acct", "westeurope");
  vmb::sata::DriveBay drives(bay);
  vmb::sata::BayDrives drive_source(bay);
  vmb::sata::proto::DriveSpec spec = vmb::offline::bench::BenchDrive("d1", staged);
  (void)drives.Create(spec);
  vmb::offline::DiskPrepOptions o;
  o.staging = staging;
  o.drive_source = &drive_source;
  o.drives = {"d1"};
  o.control_plane = url;
  o.token = "tok";
  o.kdf_n = 1u << 10;
  o.transport = transport.get();
  auto prep = vmb::offline::PrepareDrives(o);
  if (!prep.ok()) return Fail("diskprep", prep.status());
  vmb::offline::ShippingDetails d{
      "UPS", "1Z999BENCH", absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone()), 1, {}};
  d.return_address.set_recipientname("Bench");
  d.return_address.set_streetaddress1("Main 1");
  d.return_address.set_city("Utrecht");
  d.return_address.set_postalcode("3511");
  d.return_address.set_countryorregion("NL");
  d.return_address.set_phone("+31 30 000 0000");  // checked as diskprep u: checks it
  d.return_address.set_email("bench@example.com");
  auto shipped = vmb::offline::RecordShipping({staging, url, "tok", "offlinebackup", transport.get()}, d);
  if (!shipped.ok()) return Fail("shipping", shipped.status());

  vmb::bench::proto::Report report;
  auto cred = *vmb::blob::SharedKeyCredential::Create(vmb::testing::Azurite::kAccount, vmb::testing::Azurite::kKey);
  BlobClient storage(transport.get(), cred);
  BlobUri account = *BlobUri::ForAccount((*azurite)->endpoint());
  (void)storage.CreateContainer(account.WithContainer("plain"));
  std::string payload = vmb::crypto::SecureRandom().Bytes(4u << 20);

  // 1. The datacenter import vs plain Put Page.
  vmb::ie::ReceiveOptions ro;
  ro.control_plane = url;
  ro.token = "tok";
  ro.subscription = "sub";
  ro.job_name = "benchjob";
  ro.drive_images = {bay + "/d1.img"};
  ro.blob_endpoint = (*azurite)->endpoint();
  ro.transport = transport.get();
  t0 = absl::Now();
  auto received = vmb::ie::ReceivePackage(ro);
  absl::Duration import_time = absl::Now() - t0;
  if (!received.ok()) return Fail("import", received.status());
  BlobUri plain_page = account.WithContainer("plain").WithBlob("page.vhd");
  uint64_t page_bytes = (staged + (4u << 20) - 1) / (4u << 20) * (4u << 20);
  (void)storage.CreatePageBlob(plain_page, page_bytes);
  auto plain_put_page = Parallel(page_bytes, [&](uint64_t off) { return storage.PutPages(plain_page, off, payload); });
  if (!plain_put_page.ok()) return Fail("plain Put Page", plain_put_page.status());
  *report.add_figures() =
      vmb::bench::AtLeastRatio("import.vs_put_page", "datacenter import", Mbps(staged, import_time), "MB/s",
                               Mbps(page_bytes, *plain_put_page), "MB/s plain Put Page x4", 0.8);

  // 2. The vault copy (recovery point 1) vs plain Put Block.
  absl::StatusOr<vmb::offline::proto::Catalogue> read = vmb::offline::ReadCatalogue(staging);
  if (!read.ok()) return Fail("catalogue", read.status());
  const vmb::offline::proto::Catalogue& cat = *read;
  std::vector<BlobUri> images;
  for (uint32_t i = 0; i < cat.images(); ++i) {
    images.push_back(account.WithContainer("offline").WithBlob(absl::StrFormat("benchjob/image-%04u.vhd", i)));
  }
  vmb::vault::VaultOptions vo;
  vo.client = &storage;
  vo.container = account.WithContainer("recoveryvault");
  vo.item = "benchjob";
  vmb::vault::Vault vault(vo);
  t0 = absl::Now();
  auto seeded = vault.Seed(images, vmb::offline::CataloguePath(staging));
  absl::Duration seed_time = absl::Now() - t0;
  if (!seeded.ok()) return Fail("vault copy", seeded.status());
  // The reference for a copy is a plain copy: ranged Get Blob from the page blob, Put Block, 4 MiB, 4 threads.
  BlobUri plain_block = account.WithContainer("plain").WithBlob("block.bin");
  auto plain_copy = Parallel(page_bytes, [&](uint64_t off) -> absl::Status {
    ASSIGN_OR_RETURN(std::string data, storage.GetBlob(plain_page, vmb::blob::ByteRange{off, 4u << 20}));
    return storage.PutBlock(plain_block, vmb::blob::BlockId(off >> 22), data);
  });
  if (!plain_copy.ok()) return Fail("plain copy", plain_copy.status());
  *report.add_figures() =
      vmb::bench::AtLeastRatio("vault_copy.vs_plain_copy", "vault copy (recovery point 1)", Mbps(staged, seed_time),
                               "MB/s", Mbps(page_bytes, *plain_copy), "MB/s plain Get+Put Block x4", 0.8);

  // 3. Incremental backup after a 1% change (one file of the hundred rewritten).
  (void)vmb::file::WriteFileAtomic(src + "/f001", vmb::crypto::SecureRandom().Bytes(per_file), 0644);
  t0 = absl::Now();
  auto incremental = vault.Backup({src}, {});
  absl::Duration incremental_time = absl::Now() - t0;
  if (!incremental.ok()) return Fail("incremental", incremental.status());
  *report.add_figures() =
      vmb::bench::AtMostRatio("incremental.bytes_sent", "incremental after 1% change: bytes sent",
                              incremental->point.bytesuploaded() / 1e6, "MB", total / 1e6, "MB tree", 0.02);
  *report.add_figures() = vmb::bench::AtMostRatio("incremental.time", "incremental after 1% change: time",
                                                  absl::ToDoubleSeconds(incremental_time), "s",
                                                  absl::ToDoubleSeconds(initial_time), "s initial backup", 0.2);

  // 4. Restore from the vault vs plain ranged Get Blob of the same bytes.
  double cpu_ours = vmb::offline::bench::CpuSeconds(::getpid()),
         cpu_azurite = vmb::offline::bench::CpuSeconds((*azurite)->pid());
  t0 = absl::Now();
  absl::Status restored = vault.Restore(2, root + "/restore");
  absl::Duration restore_time = absl::Now() - t0;
  cpu_ours = vmb::offline::bench::CpuSeconds(::getpid()) - cpu_ours;
  cpu_azurite = vmb::offline::bench::CpuSeconds((*azurite)->pid()) - cpu_azurite;
  if (!restored.ok()) return Fail("restore", restored);
  auto plain_get = Parallel(page_bytes, [&](uint64_t off) {
    return storage.GetBlob(plain_page, vmb::blob::ByteRange{off, 4u << 20}).status();
  });
  if (!plain_get.ok()) return Fail("plain Get Blob", plain_get.status());
  // The restore moves the compressed bytes over the network and writes the whole tree; both are shown.
  *report.add_figures() =
      vmb::bench::AtLeastRatio("restore.vs_get_blob", "vault restore (network bytes)", Mbps(staged, restore_time),
                               "MB/s", Mbps(page_bytes, *plain_get), "MB/s plain Get Blob x4", 0.8);
  *report.add_figures() =
      vmb::bench::Info("restore.tree", "vault restore (tree bytes written)", Mbps(total, restore_time), "MB/s");
  // Where the restore's time goes on this machine: its own CPU (check, decompress, write) and Azurite's, beside
  // the wall time (2 cores: their sum over 2 is the least wall time they allow).
  *report.add_figures() = vmb::bench::Info("restore.cpu_ours", "vault restore: our CPU time", cpu_ours, "s");
  *report.add_figures() =
      vmb::bench::Info("restore.cpu_azurite", "vault restore: Azurite's CPU time", cpu_azurite, "s");
  *report.add_figures() =
      vmb::bench::Info("restore.wall", "vault restore: wall time", absl::ToDoubleSeconds(restore_time), "s");
  absl::Status es = vmb::bench::Emit(report, flags);
  if (!es.ok()) std::fprintf(stderr, "flow_bench: %s\n", std::string(es.message()).c_str());
  std::printf("source %.2f GB, staged %.2f GB\n", total / 1e9, staged / 1e9);
  return 0;
}
