// guestapp: the guest workload as a process. `run` writes transactions across two disks (page blobs) flat out and
// serves its VSS writer on a Unix socket for the extension's `vss-sim` provider; `check` verifies two restored disk
// images hold only whole transactions.
//
//   guestapp run --blob-endpoint URL --log-disk CONTAINER/BLOB --data-disk CONTAINER/BLOB --vss-socket PATH
//   guestapp check --log-vhd FILE --data-vhd FILE
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/blob/blob_client.h"
#include "common/blob/dev_account.h"
#include "common/blob/page_blob_device.h"
#include "common/cli/account_key.h"
#include "common/http/curl_transport.h"
#include "simulators/vhd/vhd.h"
#include "simulators/vss/vss.h"
#include "simulators/vss/vss_socket.h"
#include "simulators/vss/workload.h"

namespace {

constexpr char kUsage[] = R"(usage:
  guestapp run --blob-endpoint URL --log-disk CONTAINER/BLOB --data-disk CONTAINER/BLOB --vss-socket PATH
               [--account-key-file FILE]
      write two-disk transactions until SIGTERM/SIGINT, serving a VSS writer on PATH
  guestapp check --log-vhd FILE --data-vhd FILE
      exit 0 when the two disk images hold only whole transactions, 1 (naming the first torn one) otherwise
)";

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int Usage(const std::string& p) {
  std::fprintf(stderr, "guestapp: %s\n(run `guestapp --help`)\n", p.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    } else if (command.empty()) {
      command = a;
    } else {
      return Usage("unexpected argument " + a);
    }
  }
  vmb::vss::WorkloadLayout layout;
  if (command == "check") {
    if (opt["log-vhd"].empty() || opt["data-vhd"].empty()) return Usage("check needs --log-vhd and --data-vhd");
    std::string areas[2];
    const std::string files[2] = {opt["log-vhd"], opt["data-vhd"]};
    for (int i = 0; i < 2; ++i) {
      auto vhd = vmb::vhd::VhdFile::Open(files[i], false);
      if (!vhd.ok()) return Usage(std::string(vhd.status().message()));
      if (!(*vhd)->Read(layout.first_byte, layout.slots * 512, &areas[i]).ok()) return Usage("cannot read " + files[i]);
    }
    vmb::vss::ConsistencyReport r = vmb::vss::CheckConsistency(areas[0], areas[1], layout);
    std::printf("%llu whole transaction(s), %llu torn%s%s\n", static_cast<unsigned long long>(r.transactions),
                static_cast<unsigned long long>(r.torn), r.torn ? ": " : "", r.first_problem.c_str());
    return r.torn == 0 ? 0 : 1;
  }
  if (command != "run") return Usage(command.empty() ? "no command given" : "unknown command " + command);
  for (const char* k : {"blob-endpoint", "log-disk", "data-disk", "vss-socket"}) {
    if (opt[k].empty()) return Usage(absl::StrCat("run needs --", k));
  }
  auto transport = vmb::http::NewCurlTransport();
  auto account = vmb::blob::BlobUri::ForAccount(opt["blob-endpoint"]);
  if (!account.ok()) return Usage(std::string(account.status().message()));
  auto key = vmb::cli::ReadAccountKey(account->account(), opt["account-key-file"]);
  if (!key.ok()) return Usage(std::string(key.status().message()));
  auto cred = vmb::blob::SharedKeyCredential::Create(account->account(), *key);
  if (!cred.ok()) return Usage(std::string(cred.status().message()));
  vmb::blob::BlobClient client(transport.get(), *cred);
  auto device = [&](const std::string& spec) -> std::unique_ptr<vmb::blob::PageBlobDevice> {
    size_t slash = spec.find('/');
    if (slash == std::string::npos) return nullptr;
    vmb::blob::BlobUri uri = account->WithContainer(spec.substr(0, slash)).WithBlob(spec.substr(slash + 1));
    auto props = client.GetProperties(uri);
    if (!props.ok()) return nullptr;
    return std::make_unique<vmb::blob::PageBlobDevice>(&client, uri, props->content_length);
  };
  auto log_disk = device(opt["log-disk"]), data_disk = device(opt["data-disk"]);
  if (!log_disk || !data_disk) return Usage("both disks must exist as page blobs (CONTAINER/BLOB)");
  auto workload = std::make_shared<vmb::vss::TwoDiskWorkload>(log_disk.get(), data_disk.get(), layout);
  vmb::vss::Coordinator coordinator;
  coordinator.Register(workload);
  vmb::vss::VssSocketServer server(&coordinator, opt["vss-socket"]);
  if (absl::Status s = server.Start(); !s.ok()) return Usage(std::string(s.message()));
  ::signal(SIGTERM, OnSignal);
  ::signal(SIGINT, OnSignal);
  workload->Start();
  std::printf("guestapp: writing two-disk transactions; VSS writer on %s\n", opt["vss-socket"].c_str());
  std::fflush(stdout);
  while (!g_stop) ::usleep(100000);
  server.Stop();
  absl::Status s = workload->Stop();
  std::printf("guestapp: %llu transaction(s) committed%s\n", static_cast<unsigned long long>(workload->committed()),
              s.ok() ? "" : absl::StrCat(" (stopped on error: ", s.message(), ")").c_str());
  return s.ok() ? 0 : 1;
}
