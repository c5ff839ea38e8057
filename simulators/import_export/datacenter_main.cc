// The datacenter receiving a package (simulator):
//   datacenter receive --job NAME --subscription ID --drive IMAGE [--drive IMAGE]... --blob-endpoint URL
//                      [--account-key-file FILE] [--resource-group RG] [--control-plane URL --token T]
//   datacenter ship-back --job NAME --subscription ID [--resource-group RG] [--control-plane URL --token T]
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "common/cli/account_key.h"
#include "common/http/curl_transport.h"
#include "simulators/import_export/datacenter.h"

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  std::vector<std::string> drives, words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::printf(
          "usage: datacenter receive --job NAME --subscription ID --drive IMAGE... --blob-endpoint URL\n"
          "                          [--account-key-file FILE] [--resource-group RG] [--control-plane URL --token T]\n"
          "         (the job goes Received, Transferring, then Packaging once every drive finished)\n"
          "       datacenter ship-back --job NAME --subscription ID [--resource-group RG]\n"
          "                          [--control-plane URL --token T]\n"
          "         (return shipping: Packaging -> Completed, or Closed when a drive had errors)\n");
      return 0;
    }
    if (a == "--drive" && i + 1 < argc) {
      drives.push_back(argv[++i]);
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    } else {
      words.push_back(a);
    }
  }
  auto env = [](const char* n) { return std::string(std::getenv(n) ? std::getenv(n) : ""); };
  if (words.size() == 1 && words[0] == "ship-back") {
    if (opt["job"].empty() || opt["subscription"].empty()) {
      std::fprintf(stderr, "datacenter: ship-back needs --job and --subscription (see --help)\n");
      return 2;
    }
    auto transport = vmb::http::NewCurlTransport();
    vmb::ie::ShipBackOptions so;
    so.control_plane = opt["control-plane"].empty() ? env("VMBACKUP_CONTROL_PLANE") : opt["control-plane"];
    so.token = opt["token"].empty() ? env("VMBACKUP_TOKEN") : opt["token"];
    so.subscription = opt["subscription"];
    if (!opt["resource-group"].empty()) so.resource_group = opt["resource-group"];
    so.job_name = opt["job"];
    so.transport = transport.get();
    absl::StatusOr<vmb::ie::proto::Job> job = vmb::ie::ShipBack(so);
    if (!job.ok()) {
      std::fprintf(stderr, "datacenter: %s\n", std::string(job.status().message()).c_str());
      return 1;
    }
    std::printf("import job %s: %s\n", job->name().c_str(), job->properties().state().c_str());
    return 0;
  }
  if (words.size() != 1 || words[0] != "receive" || opt["job"].empty() || opt["subscription"].empty() ||
      drives.empty() || opt["blob-endpoint"].empty()) {
    std::fprintf(stderr, "datacenter: receive needs --job, --subscription, --drive and --blob-endpoint (see --help)\n");
    return 2;
  }
  auto transport = vmb::http::NewCurlTransport();
  vmb::ie::ReceiveOptions o;
  o.control_plane = opt["control-plane"].empty() ? env("VMBACKUP_CONTROL_PLANE") : opt["control-plane"];
  o.token = opt["token"].empty() ? env("VMBACKUP_TOKEN") : opt["token"];
  o.subscription = opt["subscription"];
  if (!opt["resource-group"].empty()) o.resource_group = opt["resource-group"];
  o.job_name = opt["job"];
  o.drive_images = drives;
  o.blob_endpoint = opt["blob-endpoint"];
  absl::StatusOr<std::string> key = vmb::cli::ReadAccountKey("", opt["account-key-file"]);
  if (!key.ok()) {
    std::fprintf(stderr, "datacenter: %s\n", std::string(key.status().message()).c_str());
    return 2;
  }
  o.account_key = *key;
  o.transport = transport.get();
  auto r = vmb::ie::ReceivePackage(o);
  if (!r.ok()) {
    std::fprintf(stderr, "datacenter: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  for (const auto& d : r->drives) {
    std::printf("drive %s: %s%s%s (%d range(s) written, %d all-zero skipped, %d corrupted)\n", d.drive_id.c_str(),
                d.state.c_str(), d.error.empty() ? "" : ": ", d.error.c_str(), d.ranges_written, d.ranges_skipped_zero,
                d.ranges_corrupted);
  }
  for (const std::string& u : r->unidentified) std::printf("unidentified drive %s\n", u.c_str());
  std::printf("import job %s: %s\n", r->job.name().c_str(), r->job.properties().state().c_str());
  return 0;
}
