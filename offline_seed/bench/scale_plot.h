// The scale benchmark's plot: for each corpus, time and peak memory against size (log-log), one line per tool, so a
// growth exponent can be seen as well as read. Data and script are plain files beside the picture; gnuplot (from
// Debian, installed by tools/setup.sh) draws it.
#ifndef VMBACKUP_OFFLINE_SEED_BENCH_SCALE_PLOT_H_
#define VMBACKUP_OFFLINE_SEED_BENCH_SCALE_PLOT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "offline_seed/bench/scale_report.h"

namespace vmb::offline::bench {

// gnuplot's data: one block per corpus and tool that completed a run ("# <corpus> <tool>", then "size seconds
// peak_rss_mib" lines), blocks two blank lines apart, in the order PlotScript indexes them.
std::string PlotData(const std::vector<CorpusResult>& corpora);
// A script drawing `data_path` into `png_path`: a row per corpus, time on the left, memory on the right.
std::string PlotScript(const std::vector<CorpusResult>& corpora, const std::string& data_path,
                       const std::string& png_path);
// Writes <png_path minus .png>.dat and .gp and runs gnuplot on them. Errors name the file or say gnuplot failed.
absl::Status WritePlot(const std::vector<CorpusResult>& corpora, const std::string& png_path);

}  // namespace vmb::offline::bench

#endif  // VMBACKUP_OFFLINE_SEED_BENCH_SCALE_PLOT_H_
