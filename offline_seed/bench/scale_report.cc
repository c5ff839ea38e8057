#include "offline_seed/bench/scale_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/bench/report.h"

namespace vmb::offline::bench {
namespace {

using vmb::bench::AtLeastRatio;
using vmb::bench::AtMost;
using vmb::bench::AtMostRatio;
using vmb::bench::Info;

constexpr double kMiB = 1024.0 * 1024.0;

const Row* Find(const CorpusResult& c, Tool tool, int size_index) {
  for (const Row& r : c.rows) {
    if (r.tool == tool && r.size_index == size_index) return &r;
  }
  return nullptr;
}

bool Ok(const Row* r) { return r != nullptr && r->outcome.measured && r->outcome.run.ok(); }

// The faster of restic and borg at that size (nullptr when neither ran).
const Row* FasterPeer(const CorpusResult& c, int size_index) {
  const Row* best = nullptr;
  for (Tool t : {Tool::kRestic, Tool::kBorg}) {
    const Row* r = Find(c, t, size_index);
    if (Ok(r) && (best == nullptr || r->outcome.run.seconds < best->outcome.run.seconds)) best = r;
  }
  return best;
}

std::string Verdict(bool met) { return met ? "met" : "NOT met"; }

std::string RowLine(const Row& r, const std::string& size) {
  std::string head =
      absl::StrFormat("%-9s %-14s %9d %11.1f", ToolName(r.tool), size, r.source.files, r.source.bytes / kMiB);
  if (!r.outcome.measured) return absl::StrCat(head, "  not measured: ", r.outcome.note, "\n");
  if (!r.outcome.run.ok()) return absl::StrCat(head, "  FAILED: ", r.outcome.note, "\n");
  return absl::StrFormat("%s %9.2f %13.1f %11.1f\n", head, r.outcome.run.seconds, r.outcome.run.peak_rss_mib,
                         r.outcome.output_bytes / kMiB);
}

std::string Header() {
  return absl::StrFormat("%-9s %-14s %9s %11s %9s %13s %11s\n", "tool", "size", "files", "source MiB", "seconds",
                         "peak RSS MiB", "output MiB");
}

// Time and memory exponents of one tool over the sizes it completed.
std::pair<double, double> Exponents(const CorpusResult& c, Tool tool) {
  std::vector<double> x, t, m;
  for (const Row& r : c.rows) {
    if (r.tool != tool || !Ok(&r)) continue;
    x.push_back(c.by_files ? static_cast<double>(r.source.files) : static_cast<double>(r.source.bytes));
    t.push_back(r.outcome.run.seconds);
    m.push_back(r.outcome.run.peak_rss_mib);
  }
  return {GrowthExponent(x, t), GrowthExponent(x, m)};
}

std::string Fmt(double v) { return std::isnan(v) ? "n/a" : absl::StrFormat("%.2f", v); }

// The three targets at one size, each with its verdict ("not measured" when a run it needs failed).
std::string Targets(const CorpusResult& c, int i) {
  const Row* ours = Find(c, Tool::kOurs, i);
  const Row* peer = FasterPeer(c, i);
  const Row* tar = Find(c, Tool::kTarZstd, i);
  std::string out = absl::StrFormat("  at %s:\n", c.sizes[i]);
  if (Ok(ours) && peer != nullptr) {
    double ratio = peer->outcome.run.seconds / ours->outcome.run.seconds;
    absl::StrAppendFormat(&out, "    speed ours / faster of restic,borg (%s %.2f s): %.2fx (target >= %.2f) %s\n",
                          ToolName(peer->tool), peer->outcome.run.seconds, ratio, kMinSpeedVsPeers,
                          Verdict(ratio >= kMinSpeedVsPeers));
  } else {
    absl::StrAppend(&out, "    speed vs restic,borg: not measured (a run failed)\n");
  }
  if (Ok(ours) && Ok(tar) && tar->outcome.output_bytes > 0) {
    double ratio = static_cast<double>(ours->outcome.output_bytes) / tar->outcome.output_bytes;
    absl::StrAppendFormat(&out, "    size ours / tar|zstd: %.3fx (target <= %.2f) %s\n", ratio, kMaxSizeVsTar,
                          Verdict(ratio <= kMaxSizeVsTar));
  } else {
    absl::StrAppend(&out, "    size vs tar|zstd: not measured (a run failed)\n");
  }
  if (Ok(ours)) {
    absl::StrAppendFormat(&out, "    peak RSS ours: %.1f MiB (target <= %.0f MiB) %s\n", ours->outcome.run.peak_rss_mib,
                          kMaxPeakRssMib, Verdict(ours->outcome.run.peak_rss_mib <= kMaxPeakRssMib));
  }
  return out;
}

}  // namespace

std::string CorpusTable(const CorpusResult& c) {
  std::string out = absl::StrCat("\ncorpus (", c.key, ") ", c.title, "\n", Header());
  for (size_t i = 0; i < c.sizes.size(); ++i) {
    for (Tool t : kAllTools) {
      if (const Row* r = Find(c, t, static_cast<int>(i))) out += RowLine(*r, c.sizes[i]);
    }
  }
  absl::StrAppendFormat(&out,
                        "growth exponents (least squares on log-log over the sizes, against %s; 1 = linear, "
                        "0 = flat):\n",
                        c.by_files ? "files" : "bytes");
  for (Tool t : kAllTools) {
    auto [time_exp, mem_exp] = Exponents(c, t);
    absl::StrAppendFormat(&out, "  %-9s time %5s   memory %5s\n", ToolName(t), Fmt(time_exp), Fmt(mem_exp));
  }
  absl::StrAppend(&out, "targets:\n");
  for (size_t i = 0; i < c.sizes.size(); ++i) out += Targets(c, static_cast<int>(i));
  return out;
}

void AddFigures(const CorpusResult& c, vmb::bench::proto::Report* report) {
  if (c.sizes.empty()) return;
  const int last = static_cast<int>(c.sizes.size()) - 1;
  const std::string id = "scale." + c.key;
  const std::string at = absl::StrCat(c.name, ", ", c.sizes[last]);
  const Row* ours = Find(c, Tool::kOurs, last);
  const Row* peer = FasterPeer(c, last);
  const Row* tar = Find(c, Tool::kTarZstd, last);
  if (!Ok(ours)) {
    *report->add_figures() = Info(id + ".failed", "FAILED: ours, " + at, 0, "");
    return;
  }
  double mb = ours->source.bytes / 1e6;
  if (peer != nullptr) {
    *report->add_figures() =
        AtLeastRatio(id + ".speed_vs_peers", "backup speed, " + at, mb / ours->outcome.run.seconds, "MB/s",
                     mb / peer->outcome.run.seconds, absl::StrCat("MB/s ", ToolName(peer->tool)), kMinSpeedVsPeers);
  }
  if (Ok(tar)) {
    *report->add_figures() =
        AtMostRatio(id + ".size_vs_tar_zstd", "backup size, " + at, ours->outcome.output_bytes / kMiB, "MiB",
                    tar->outcome.output_bytes / kMiB, "MiB tar|zstd -1", kMaxSizeVsTar);
  }
  double peer_rss = peer != nullptr ? peer->outcome.run.peak_rss_mib : 0;
  std::string peer_name = peer != nullptr ? std::string("MiB ") + ToolName(peer->tool) : "";
  *report->add_figures() = AtMost(id + ".peak_rss", "backup peak RSS, " + at, ours->outcome.run.peak_rss_mib, "MiB",
                                  kMaxPeakRssMib, peer_rss, peer_name);
  auto [time_exp, mem_exp] = Exponents(c, Tool::kOurs);
  // The exponents are shown without a reference: a ratio of two exponents means nothing (the table has the peers').
  if (!std::isnan(time_exp)) {
    *report->add_figures() = Info(id + ".time_exponent", "time growth exponent, " + c.name, time_exp, "");
  }
  if (!std::isnan(mem_exp)) {
    *report->add_figures() = Info(id + ".memory_exponent", "memory growth exponent, " + c.name, mem_exp, "");
  }
}

std::string ExtraTable(const std::string& title, const std::string& size, const std::vector<Row>& rows) {
  std::string out = absl::StrCat("\n", title, "\n", Header());
  for (const Row& r : rows) out += RowLine(r, size);
  return out;
}

}  // namespace vmb::offline::bench
