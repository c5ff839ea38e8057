// The benchmark suite: runs every benchmark binary, gathers their figures (each one ours beside a reference measured
// in the same run) into one table, and writes it as JSON and as a PNG chart (each figure's score against its target;
// >= 1 meets it). Run:  bazel run -c opt //tools/bench -- --quick   (or without --quick for the full sizes)
//   --out DIR   where bench.json, bench.png and each benchmark's own JSON go (default: <workspace>/bench-results)
//   --only NAME run just that benchmark (crypto, snapshot, offline, flow, scale)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/bench/report.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"

namespace {

struct Bench {
  std::string name;
  std::string path;  // in the runfiles
  std::vector<std::string> quick_args, full_args;
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string out, only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::printf("usage: bench [--quick] [--out DIR] [--only crypto|snapshot|offline|flow|scale]\n");
      return 0;
    } else if (a == "--quick") {
      quick = true;
    } else if (a == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "bench: unexpected argument %s (see --help)\n", a.c_str());
      return 2;
    }
  }
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (out.empty()) out = absl::StrCat(ws ? ws : ".", "/bench-results");
  if (!vmb::file::MakeDirs(out).ok()) {
    std::fprintf(stderr, "bench: cannot create %s\n", out.c_str());
    return 1;
  }
  std::vector<Bench> benches = {
      {"crypto", "common/crypto/crypto_bench", {}, {"--seconds=2"}},
      {"snapshot", "snapshot/snapshot_bench", {}, {"--rounds=5"}},
      {"offline", "offline_seed/bench/offline_bench", {}, {"--gib=1"}},
      {"flow", "offline_seed/bench/flow_bench", {}, {"--gib=1"}},
      // Ours beside restic, borg and tar | zstd on small files, large files and a sparse image at three sizes each
      // (--quick: up to 100k files / 256 MiB / 4 GiB apparent; full: up to 1M files / 2 GiB / 100 GiB apparent).
      {"scale", "offline_seed/bench/scale_bench", {}, {}},
  };
  if (!quick) benches.push_back({"offline-8g", "offline_seed/bench/offline_bench", {}, {"--gib=8"}});
  vmb::bench::proto::Report all;
  double peak_1g = 0, peak_8g = 0;
  int failed = 0;
  for (const Bench& b : benches) {
    if (!only.empty() && b.name.rfind(only, 0) != 0) continue;
    std::string json = absl::StrCat(out, "/", b.name, ".json");
    std::vector<std::string> cmd = {b.path, "--json=" + json};
    if (quick) cmd.push_back("--quick");
    for (const std::string& a : quick ? b.quick_args : b.full_args) cmd.push_back(a);
    std::fprintf(stderr, "== %s: %s\n", b.name.c_str(), b.path.c_str());
    auto r = vmb::process::RunCommand(cmd);
    if (!r.ok() || r->exit_code != 0) {
      std::fprintf(stderr, "bench: %s failed%s\n%s\n", b.name.c_str(), r.ok() ? "" : " to start",
                   r.ok() ? (r->stdout_data + r->stderr_data).c_str() : std::string(r.status().message()).c_str());
      ++failed;
      continue;
    }
    std::fputs(r->stdout_data.c_str(), stderr);
    auto report = vmb::bench::ReadReport(json);
    if (!report.ok()) {
      std::fprintf(stderr, "bench: %s wrote no report: %s\n", b.name.c_str(),
                   std::string(report.status().message()).c_str());
      ++failed;
      continue;
    }
    for (auto f : report->figures()) {
      if (f.id() == "drive_prep.peak_memory") {
        (b.name == "offline-8g" ? peak_8g : peak_1g) = f.value();
        if (b.name == "offline-8g") continue;
      }
      if (b.name == "offline-8g") continue;  // only its memory figure is used
      *all.add_figures() = f;
    }
  }
  if (peak_1g > 0 && peak_8g > 0) {
    *all.add_figures() = vmb::bench::AtMostRatio("drive_prep.peak_memory_8g_vs_1g", "peak memory, 8 GiB vs 1 GiB",
                                                 peak_8g, "MiB", peak_1g, "MiB at 1 GiB", 1.10);
  }
  vmb::bench::CommonFlags flags;
  flags.quick = quick;
  flags.json_path = out + "/bench.json";
  std::printf("\n");
  if (!vmb::bench::Emit(all, flags).ok()) std::fprintf(stderr, "bench: cannot write %s\n", flags.json_path.c_str());

  // The chart: one bar per figure with a target, its score (>= 1 meets the target), drawn by gnuplot.
  std::string dat;
  int bars = 0;
  for (const auto& f : all.figures()) {
    if (f.kind() == "info") continue;
    std::string label = f.name();
    for (char& c : label) {
      if (c == '"') c = '\'';
    }
    dat += absl::StrFormat("%d \"%s\" %.3f\n", bars++, label, std::min(f.score(), 3.0));
  }
  std::string dat_path = out + "/bench.dat", png = out + "/bench.png";
  (void)vmb::file::WriteFileAtomic(dat_path, dat, 0644);
  std::string plot = absl::StrFormat(
      "set terminal pngcairo size 1400,%d font 'DejaVu Sans,10'; set output '%s'; set title 'score against target "
      "(>= 1 meets it; capped at 3)'; set style fill solid 0.8; set boxwidth 0.7; unset key; set xrange [0:3.2]; "
      "set yrange [-1:%d]; set ytics nomirror; set grid xtics; set arrow from 1,-1 to 1,%d nohead lc rgb 'red' lw 2; "
      "plot '%s' using ($3*0.5):1:($3*0.5):(0.35):(($3>=1)?0x2e8b57:0xcc3333):ytic(2) with boxxyerror lc rgb variable",
      120 + 28 * bars, png, bars, bars, dat_path);
  auto g = vmb::process::RunCommand({"gnuplot", "-e", plot});
  if (g.ok() && g->exit_code == 0) {
    std::printf("\nwrote %s/bench.json and %s\n", out.c_str(), png.c_str());
  } else {
    std::printf("\nwrote %s/bench.json; no chart (gnuplot: %s)\n", out.c_str(),
                g.ok() ? g->stderr_data.c_str() : "not found; tools/setup.sh installs gnuplot-nox");
  }
  return failed == 0 ? 0 : 1;
}
