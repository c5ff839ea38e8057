// satasim: a bay of simulated SATA drives for diskprep and its tests.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/cli/sizes.h"
#include "common/json/json.h"
#include "simulators/sata/drive.h"

namespace {

constexpr char kUsage[] = R"(usage: satasim COMMAND --bay DIR [options]
  create --name NAME --model M --serial S --capacity SIZE --form-factor 2.5|3.5 --media ssd|hdd
         --interface sata2|sata3|usb|nvme [--sector 512|4096] [--system] [--real-capacity SIZE]
                          add a drive (a sparse image; SIZE in bytes or with K/M/G/T); --real-capacity makes it a
                          counterfeit that keeps only SIZE bytes (writes past it wrap around)
  list [--json]           the drives in the bay
  identify --name NAME    decode the drive's ATA IDENTIFY DEVICE data
  fault --name NAME [--bad-lba FIRST:COUNT] [--rot-lba FIRST:COUNT] [--pull-after BYTES] [--throughput MBPS]
        [--write-protect on|off] [--clear]
                          inject faults (bad sectors, sectors read back wrong without an error, removal after N
                          written bytes, a throughput cap, a write-protected drive)
  attach|detach --name NAME
)";

int Usage(const std::string& p) {
  std::fprintf(stderr, "satasim: %s\n(run `satasim --help`)\n", p.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command;
  std::map<std::string, std::string> opt;
  std::vector<std::string> bad_lbas, rot_lbas;
  bool json = false, system = false, clear = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--system") {
      system = true;
    } else if (a == "--clear") {
      clear = true;
    } else if (a == "--bad-lba" && i + 1 < argc) {
      bad_lbas.push_back(argv[++i]);
    } else if (a == "--rot-lba" && i + 1 < argc) {
      rot_lbas.push_back(argv[++i]);
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    } else if (command.empty()) {
      command = a;
    } else {
      return Usage("unexpected argument " + a);
    }
  }
  if (opt["bay"].empty()) return Usage("--bay DIR is required");
  vmb::sata::DriveBay bay(opt["bay"]);
  if (command == "create") {
    vmb::sata::proto::DriveSpec s;
    s.set_name(opt["name"]);
    s.set_model(opt["model"]);
    s.set_serial(opt["serial"]);
    uint64_t cap = 0;
    if (!vmb::cli::ParseSize(opt["capacity"], &cap)) return Usage("--capacity needs a size like 2T");
    s.set_capacity(cap);
    if (opt["form-factor"] != "2.5" && opt["form-factor"] != "3.5") return Usage("--form-factor must be 2.5 or 3.5");
    s.set_formfactor(opt["form-factor"]);
    if (opt["media"] != "ssd" && opt["media"] != "hdd") return Usage("--media must be ssd or hdd");
    s.set_media(opt["media"]);
    const std::string& itf = opt["interface"];
    if (itf != "sata2" && itf != "sata3" && itf != "usb" && itf != "nvme") {
      return Usage("--interface must be sata2, sata3, usb or nvme");
    }
    s.set_interface(itf);
    uint32_t sector = 512;
    if (!opt["sector"].empty() && !absl::SimpleAtoi(opt["sector"], &sector))
      return Usage("--sector must be 512 or 4096");
    s.set_sectorsize(sector);
    s.set_system(system);
    if (!opt["real-capacity"].empty()) {
      uint64_t real = 0;
      if (!vmb::cli::ParseSize(opt["real-capacity"], &real) || real == 0 || real >= cap || real % sector) {
        return Usage("--real-capacity needs a size below --capacity, a multiple of the sector size");
      }
      s.set_realcapacity(real);
    }
    if (s.name().empty() || s.model().empty() || s.serial().empty())
      return Usage("--name, --model and --serial are required");
    absl::Status st = bay.Create(s);
    if (!st.ok()) return Usage(std::string(st.message()));
    std::printf("created drive %s: %s, serial %s, %llu bytes\n", s.name().c_str(), s.model().c_str(),
                s.serial().c_str(), static_cast<unsigned long long>(cap));
    return 0;
  }
  if (command == "list") {
    auto drives = bay.List();
    if (!drives.ok()) return Usage(std::string(drives.status().message()));
    for (const auto& d : *drives) {
      if (json) {
        std::printf("%s\n", vmb::json::ToJson(d).c_str());
      } else {
        std::printf("%-10s %-24s %-16s %14llu B  %s\" %s %s%s%s\n", d.name().c_str(), d.model().c_str(),
                    d.serial().c_str(), static_cast<unsigned long long>(d.capacity()), d.formfactor().c_str(),
                    d.media().c_str(), d.interface().c_str(), d.attached() ? "" : " (pulled)",
                    d.system() ? " (system disk)" : "");
      }
    }
    return 0;
  }
  auto spec = bay.Get(opt["name"]);
  if (!spec.ok()) return Usage(std::string(spec.status().message()));
  if (command == "identify") {
    auto info = vmb::sata::DecodeIdentify(vmb::sata::EncodeIdentify(vmb::sata::IdentifyFor(*spec)));
    std::printf(
        "model: %s\nserial: %s\nfirmware: %s\nsectors: %llu x %u bytes\nSATA generation: %d\n"
        "rotation rate: %u%s\nform factor code: %d\n",
        info->model.c_str(), info->serial.c_str(), info->firmware.c_str(),
        static_cast<unsigned long long>(info->sectors), info->logical_sector_size, static_cast<int>(info->sata),
        info->rotation_rate, info->rotation_rate == 1 ? " (SSD)" : " rpm", static_cast<int>(info->form_factor));
    return 0;
  }
  if (command == "fault") {
    if (clear) {
      spec->clear_badranges();
      spec->clear_silentranges();
      spec->set_pullafterbytes(0);
      spec->set_throughputmbps(0);
      spec->set_writeprotected(false);
    }
    if (!opt["write-protect"].empty()) {
      if (opt["write-protect"] != "on" && opt["write-protect"] != "off")
        return Usage("--write-protect needs on or off");
      spec->set_writeprotected(opt["write-protect"] == "on");
    }
    for (bool rot : {false, true}) {
      for (const std::string& b : rot ? rot_lbas : bad_lbas) {
        std::pair<std::string, std::string> p = absl::StrSplit(b, absl::MaxSplits(':', 1));
        uint64_t first = 0, count = 0;
        if (!absl::SimpleAtoi(p.first, &first) || !absl::SimpleAtoi(p.second, &count) || count == 0) {
          return Usage(rot ? "--rot-lba needs FIRST:COUNT" : "--bad-lba needs FIRST:COUNT");
        }
        auto* r = rot ? spec->add_silentranges() : spec->add_badranges();
        r->set_firstlba(first);
        r->set_count(count);
      }
    }
    uint64_t pull = 0;
    if (!opt["pull-after"].empty()) {
      if (!vmb::cli::ParseSize(opt["pull-after"], &pull)) return Usage("--pull-after needs bytes");
      spec->set_pullafterbytes(static_cast<int64_t>(pull));
    }
    double mbps = 0;
    if (!opt["throughput"].empty()) {
      if (!absl::SimpleAtod(opt["throughput"], &mbps) || mbps <= 0) return Usage("--throughput needs MB/s > 0");
      spec->set_throughputmbps(mbps);
    }
    absl::Status st = bay.Update(*spec);
    if (!st.ok()) return Usage(std::string(st.message()));
    std::printf(
        "faults of %s: %d bad range(s), %d silently rotten range(s), pull after %lld bytes, throughput cap "
        "%.0f MB/s\n",
        spec->name().c_str(), spec->badranges_size(), spec->silentranges_size(),
        static_cast<long long>(spec->pullafterbytes()), spec->throughputmbps());
    return 0;
  }
  if (command == "attach" || command == "detach") {
    spec->set_attached(command == "attach");
    absl::Status st = bay.Update(*spec);
    if (!st.ok()) return Usage(std::string(st.message()));
    std::printf("%s %s\n", spec->name().c_str(), command == "attach" ? "attached" : "detached");
    return 0;
  }
  return Usage(command.empty() ? "no command given" : "unknown command " + command);
}
