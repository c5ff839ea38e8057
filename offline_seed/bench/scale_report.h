// What the scale benchmark prints and reports: per corpus a table (tool x size: files, bytes, seconds, peak RSS,
// output), each tool's growth exponents of time and memory against size, and the targets at every size
// with a verdict computed from the figures; the figures of the largest size also go into the JSON report.
#ifndef VMBACKUP_OFFLINE_SEED_BENCH_SCALE_REPORT_H_
#define VMBACKUP_OFFLINE_SEED_BENCH_SCALE_REPORT_H_

#include <string>
#include <vector>

#include "common/bench/bench.pb.h"
#include "offline_seed/bench/scale_corpus.h"
#include "offline_seed/bench/scale_tools.h"

namespace vmb::offline::bench {

// The targets.
inline constexpr double kMinSpeedVsPeers = 1.0;  // ours at least as fast as the faster of restic and borg
inline constexpr double kMaxSizeVsTar = 1.02;    // output at most 2% over tar | zstd -1
inline constexpr double kMaxPeakRssMib = 256;    // bounded memory

struct Row {
  Tool tool;
  int size_index = 0;
  TreeCount source;
  Outcome outcome;
};

struct CorpusResult {
  std::string key;                 // "a".."d", used in figure ids
  std::string title;               // "many small files (0.5-2 KB, ...)", for the table
  std::string name;                // "small files", for the report's figure names
  bool by_files = false;           // growth is fitted against the file count (else against the bytes)
  std::vector<std::string> sizes;  // labels, smallest first
  std::vector<Row> rows;
};

// The corpus's table, growth exponents and target verdicts.
std::string CorpusTable(const CorpusResult& c);
// Figures for the JSON report: targets at the largest size and the growth exponents.
void AddFigures(const CorpusResult& c, vmb::bench::proto::Report* report);

// A table of restores or repeat runs (one row per tool; "not measured" rows say why).
std::string ExtraTable(const std::string& title, const std::string& size, const std::vector<Row>& rows);

}  // namespace vmb::offline::bench

#endif  // VMBACKUP_OFFLINE_SEED_BENCH_SCALE_REPORT_H_
