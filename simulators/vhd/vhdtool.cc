// vhdtool: create, write, read and inspect VHD virtual disks.
//
//   vhdtool create --format fixed|dynamic --size SIZE FILE      SIZE like 1073741824, 64M, 10G
//   vhdtool write --offset N --input FILE DISK
//   vhdtool read --offset N --length N DISK                     raw bytes to stdout
//   vhdtool info [--json] DISK
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cli/sizes.h"
#include "common/file/file_util.h"
#include "simulators/vhd/vhd.h"

namespace {

constexpr char kUsage[] = R"(usage:
  vhdtool create --format fixed|dynamic --size SIZE FILE   create a VHD (SIZE: bytes, or with K/M/G/T suffix)
  vhdtool write --offset N --input FILE DISK               write FILE's bytes into DISK at offset N
  vhdtool read --offset N --length N DISK                  print DISK's bytes [N, N+length) to stdout
  vhdtool info [--json] DISK                               show format, size, geometry, allocation
)";

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "vhdtool: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string command = args[0], format, input, file;
  uint64_t size = 0, offset = 0, length = 0;
  bool json = false, has_size = false, has_length = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--format") {
      if (!next(&format)) return Fail("--format needs fixed or dynamic", 2);
    } else if (a == "--size") {
      if (!next(&v) || !vmb::cli::ParseSize(v, &size)) return Fail("--size needs a size like 64M", 2);
      has_size = true;
    } else if (a == "--offset") {
      if (!next(&v) || !vmb::cli::ParseSize(v, &offset)) return Fail("--offset needs a number", 2);
    } else if (a == "--length") {
      if (!next(&v) || !vmb::cli::ParseSize(v, &length)) return Fail("--length needs a number", 2);
      has_length = true;
    } else if (a == "--input") {
      if (!next(&input)) return Fail("--input needs a file", 2);
    } else if (a == "--json") {
      json = true;
    } else if (a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (file.empty() && a[0] != '-') {
      file = a;
    } else {
      return Fail(absl::StrCat("unexpected argument ", a, " (see --help)"), 2);
    }
  }
  if (file.empty()) return Fail("no disk file given (see --help)", 2);
  if (command == "create") {
    if (format != "fixed" && format != "dynamic") return Fail("--format must be fixed or dynamic", 2);
    if (!has_size) return Fail("--size is required", 2);
    auto vhd = vmb::vhd::VhdFile::Create(
        file, format == "fixed" ? vmb::vhd::DiskType::kFixed : vmb::vhd::DiskType::kDynamic, size);
    if (!vhd.ok()) return Fail(std::string(vhd.status().message()));
    std::printf("created %s VHD %s of %llu bytes\n", format.c_str(), file.c_str(),
                static_cast<unsigned long long>((*vhd)->size()));
    return 0;
  }
  auto vhd = vmb::vhd::VhdFile::Open(file, command == "write");
  if (!vhd.ok()) return Fail(std::string(vhd.status().message()));
  if (command == "write") {
    if (input.empty()) return Fail("--input is required", 2);
    auto data = vmb::file::ReadFile(input);
    if (!data.ok()) return Fail(std::string(data.status().message()));
    absl::Status s = (*vhd)->Write(offset, *data);
    if (s.ok()) s = (*vhd)->Flush();
    if (!s.ok()) return Fail(absl::StrCat(s.message(), " (disk size ", (*vhd)->size(), ")"));
    std::printf("wrote %zu bytes at offset %llu\n", data->size(), static_cast<unsigned long long>(offset));
    return 0;
  }
  if (command == "read") {
    if (!has_length) return Fail("--length is required", 2);
    std::string out;
    absl::Status s = (*vhd)->Read(offset, length, &out);
    if (!s.ok()) return Fail(absl::StrCat(s.message(), " (disk size ", (*vhd)->size(), ")"));
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (command == "info") {
    vmb::vhd::Info i = (*vhd)->GetInfo();
    const char* type = i.type == vmb::vhd::DiskType::kFixed ? "fixed" : "dynamic";
    if (json) {
      std::printf(
          "{\"format\":\"%s\",\"size\":%llu,\"cylinders\":%u,\"heads\":%u,\"sectorsPerTrack\":%u,"
          "\"creator\":\"%s\",\"uniqueId\":\"%s\",\"blockSize\":%u,\"blocks\":%u,\"blocksAllocated\":%u,"
          "\"fileSize\":%llu}\n",
          type, static_cast<unsigned long long>(i.size), i.geometry.cylinders, i.geometry.heads,
          i.geometry.sectors_per_track, absl::CEscape(i.creator_app).c_str(), i.unique_id_hex.c_str(), i.block_size,
          i.blocks_total, i.blocks_allocated, static_cast<unsigned long long>(i.file_size));
    } else {
      std::printf("format: %s VHD\nsize: %llu bytes\ngeometry (CHS): %u/%u/%u\ncreator: %s\nunique id: %s\n", type,
                  static_cast<unsigned long long>(i.size), i.geometry.cylinders, i.geometry.heads,
                  i.geometry.sectors_per_track, absl::CEscape(i.creator_app).c_str(), i.unique_id_hex.c_str());
      if (i.type == vmb::vhd::DiskType::kDynamic) {
        std::printf("blocks: %u of %u allocated (%u bytes each)\n", i.blocks_allocated, i.blocks_total, i.block_size);
      }
      std::printf("file size: %llu bytes\n", static_cast<unsigned long long>(i.file_size));
    }
    return 0;
  }
  return Fail(absl::StrCat("unknown command \"", command, "\" (see --help)"), 2);
}
