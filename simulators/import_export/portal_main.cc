// The portal's manual path against the simulated directory (seed 004), for an admin following certgen's steps:
//   portal show   --app NAME [--url URL --token T]
//   portal delete --app NAME [--url URL --token T]           (only an application without certificates or keys)
//   portal upload-certificate --app NAME --cer FILE [--url URL --token T]
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "common/http/curl_transport.h"
#include "simulators/import_export/portal.h"

namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "portal: %s\n", std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  std::string command = argc > 1 ? argv[1] : "";
  for (int i = 2; i + 1 < argc; i += 2) opt[std::string(argv[i]).substr(2)] = argv[i + 1];
  auto env = [](const char* n) { return std::string(std::getenv(n) ? std::getenv(n) : ""); };
  if (opt["url"].empty()) opt["url"] = env("VMBACKUP_CONTROL_PLANE");
  if (opt["token"].empty()) opt["token"] = env("VMBACKUP_TOKEN");
  if (opt["app"].empty() || opt["url"].empty() || (command == "upload-certificate" && opt["cer"].empty()) ||
      (command != "show" && command != "delete" && command != "upload-certificate")) {
    std::fprintf(stderr, "usage: portal show|delete|upload-certificate --app NAME [--cer FILE] --url URL --token T\n");
    return 2;
  }
  auto transport = vmb::http::NewCurlTransport();
  vmb::ie::DirectoryClient directory(transport.get(), opt["url"], opt["token"]);
  if (command == "delete") {
    absl::Status s = vmb::ie::PortalDeleteIfNoKeys(directory, opt["app"]);
    if (!s.ok()) return Fail(s);
    std::printf("deleted %s\n", opt["app"].c_str());
    return 0;
  }
  if (command == "upload-certificate") {
    absl::StatusOr<std::string> thumb = vmb::ie::PortalUploadCertificate(directory, opt["app"], opt["cer"]);
    if (!thumb.ok()) return Fail(thumb.status());
    std::printf("%s holds certificate %s\n", opt["app"].c_str(), thumb->c_str());
    return 0;
  }
  absl::StatusOr<vmb::ie::proto::Application> app = vmb::ie::PortalShow(directory, opt["app"]);
  if (!app.ok()) return Fail(app.status());
  std::printf("%s (application id %s): %d certificate(s) or key(s)\n", app->displayname().c_str(), app->appid().c_str(),
              app->keycredentials_size());
  for (const auto& k : app->keycredentials()) {
    std::printf("  %s  until %s  %s\n", k.customkeyidentifier().c_str(), k.enddatetime().c_str(),
                k.displayname().c_str());
  }
  return 0;
}
