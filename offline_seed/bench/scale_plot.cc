#include "offline_seed/bench/scale_plot.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/file/file_util.h"
#include "common/process/subprocess.h"

namespace vmb::offline::bench {
namespace {

// The rows of `tool` in `c` that completed, as plot points.
std::string Points(const CorpusResult& c, Tool tool) {
  std::string out;
  for (const Row& r : c.rows) {
    if (r.tool != tool || !r.outcome.measured || !r.outcome.run.ok()) continue;
    const double x = c.by_files ? static_cast<double>(r.source.files) : r.source.bytes / double(1u << 20);
    absl::StrAppendFormat(&out, "%.6g %.4f %.2f\n", x, r.outcome.run.seconds, r.outcome.run.peak_rss_mib);
  }
  return out;
}

std::string Quoted(const std::string& s) { return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "''"}}), "'"); }

// The tools of `c` with at least one completed run, with their points: one data block each, in this order.
std::vector<std::pair<Tool, std::string>> Plotted(const CorpusResult& c) {
  std::vector<std::pair<Tool, std::string>> out;
  for (Tool t : kAllTools) {
    std::string points = Points(c, t);
    if (!points.empty()) out.emplace_back(t, std::move(points));
  }
  return out;
}

}  // namespace

std::string PlotData(const std::vector<CorpusResult>& corpora) {
  std::string out;
  for (const CorpusResult& c : corpora) {
    for (const auto& [tool, points] : Plotted(c)) {
      absl::StrAppend(&out, "# ", c.name, " ", ToolName(tool), "\n", points, "\n\n");
    }
  }
  return out;
}

std::string PlotScript(const std::vector<CorpusResult>& corpora, const std::string& data_path,
                       const std::string& png_path) {
  std::vector<std::pair<const CorpusResult*, std::vector<Tool>>> panels;  // a row per corpus with points
  for (const CorpusResult& c : corpora) {
    std::vector<Tool> tools;
    for (const auto& [tool, points] : Plotted(c)) tools.push_back(tool);
    if (!tools.empty()) panels.emplace_back(&c, std::move(tools));
  }
  const int rows = std::max<int>(1, static_cast<int>(panels.size()));
  std::string s = absl::StrFormat(
      "set terminal pngcairo size 1200,%d font 'DejaVu Sans,10' noenhanced\nset output %s\n"
      "set multiplot layout %d,2\nset logscale xy\nset grid\nset key top left\n",
      380 * rows, Quoted(png_path), rows);
  int block = 0;  // PlotData's blocks, in the same order
  for (const auto& [c, tools] : panels) {
    const std::string x = c->by_files ? "files" : "source MiB";
    for (int column : {2, 3}) {
      absl::StrAppendFormat(&s, "set title %s\nset xlabel %s\nset ylabel %s\nplot ",
                            Quoted(absl::StrCat(c->name, column == 2 ? ": time" : ": peak memory")), Quoted(x),
                            Quoted(column == 2 ? "seconds" : "peak RSS MiB"));
      for (size_t i = 0; i < tools.size(); ++i) {
        absl::StrAppendFormat(&s, "%s%s index %d using 1:%d with linespoints title %s", i == 0 ? "" : ", ",
                              Quoted(data_path), block + static_cast<int>(i), column, Quoted(ToolName(tools[i])));
      }
      s += "\n";
    }
    block += static_cast<int>(tools.size());
  }
  return s + "unset multiplot\n";
}

absl::Status WritePlot(const std::vector<CorpusResult>& corpora, const std::string& png_path) {
  std::string stem = png_path;
  if (absl::EndsWith(stem, ".png")) stem.resize(stem.size() - 4);
  const std::string data = stem + ".dat", script = stem + ".gp";
  if (absl::Status s = file::WriteFileAtomic(data, PlotData(corpora), 0644); !s.ok()) return s;
  if (absl::Status s = file::WriteFileAtomic(script, PlotScript(corpora, data, png_path), 0644); !s.ok()) return s;
  // Fontconfig wants a writable cache folder (a sandbox or a read-only home has none): one beside the picture.
  process::RunOptions ro;
  ro.extra_env = {"XDG_CACHE_HOME=" + stem + ".cache"};
  absl::StatusOr<process::CommandResult> g = process::RunCommand({"gnuplot", script}, ro);
  if (!g.ok()) {
    return absl::UnavailableError(absl::StrCat("gnuplot: ", g.status().message(),
                                               " (tools/setup.sh installs gnuplot-nox); the data is in ", data));
  }
  std::error_code ignored;
  std::filesystem::remove_all(stem + ".cache", ignored);
  if (g->exit_code != 0) {
    return absl::UnavailableError(absl::StrCat("gnuplot failed on ", script, ": ", g->stderr_data));
  }
  return absl::OkStatus();
}

}  // namespace vmb::offline::bench
