#include "offline_seed/agent/console.h"

#include <map>
#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/cli/sizes.h"
#include "offline_seed/agent/walk.h"

namespace vmb::offline {

int Usage(const Console& c, const std::string& problem) {
  std::fprintf(c.err, "seedagent: %s\n(run `seedagent --help`)\n", problem.c_str());
  return 2;
}

int Fail(const Console& c, const absl::Status& s) {
  std::fprintf(c.err, "seedagent: %s\n", std::string(s.message()).c_str());
  return 1;
}

int ReportProblems(const Console& c, const google::protobuf::RepeatedPtrField<proto::Problem>& problems) {
  std::map<std::string, int> counts;
  for (const auto& p : problems) ++counts[p.kind()];
  if (problems.empty()) return 0;
  std::fprintf(c.err, "not kept as it was:");
  for (const auto& [kind, n] : counts) std::fprintf(c.err, " %d %s", n, kind.c_str());
  std::fprintf(c.err, "\n");
  int shown = 0;
  for (const auto& p : problems) {
    if (++shown > 1000) {
      std::fprintf(c.err, "  ... and %d more (all of them are in --json)\n", problems.size() - 1000);
      break;
    }
    std::fprintf(c.err, "  %-10s %s: %s\n", p.kind().c_str(), p.path().c_str(), p.detail().c_str());
  }
  std::vector<proto::Problem> all(problems.begin(), problems.end());
  if (!Incomplete(all)) return 0;
  std::fprintf(c.err,
               "the backup is incomplete: the unreadable entries above are not in it (fix their permissions "
               "or run as a user that can read them; the next backup picks them up)\n");
  return 3;
}

void ReportRestore(const Console& c, const RestoreReport& r) {
  if (!r.owners_applied) {
    std::fprintf(c.err,
                 "owners were not restored (only root can set them): every entry belongs to the restoring user\n");
  }
  for (const std::string& n : r.not_restored) std::fprintf(c.err, "not restored: %s\n", n.c_str());
}

std::function<void(const std::string&, uint64_t, uint64_t)> ProgressPrinter(const Console& c) {
  struct State {
    std::string phase;
    absl::Time start, last;
  };
  auto st = std::make_shared<State>();
  return [st, err = c.err, tty = c.tty](const std::string& phase, uint64_t done, uint64_t total) {
    absl::Time now = absl::Now();
    if (phase != st->phase) {
      if (!st->phase.empty() && tty) std::fprintf(err, "\n");
      st->phase = phase;
      st->start = now;
      st->last = absl::InfinitePast();
    }
    if (now - st->last < absl::Milliseconds(500) && done != total) return;
    st->last = now;
    double secs = absl::ToDoubleSeconds(now - st->start);
    double rate = secs > 0 ? done / secs / 1e6 : 0;
    double eta = rate > 0 && total > done ? (total - done) / 1e6 / rate : 0;
    std::fprintf(err, "%s%-12s %6.2f%%  %.2f / %.2f GB  %.0f MB/s  ETA %.0f s%s", tty ? "\r" : "", phase.c_str(),
                 total ? 100.0 * done / total : 100.0, done / 1e9, total / 1e9, rate, eta, tty ? "" : "\n");
  };
}

std::function<void(uint64_t, uint64_t)> InitiateProgressPrinter(const Console& c) {
  const absl::Time start = absl::Now();
  auto last = std::make_shared<absl::Time>(start);
  return [start, last, err = c.err, tty = c.tty](uint64_t done, uint64_t total) {
    absl::Time now = absl::Now();
    if (now - *last < absl::Milliseconds(500) && done != total) return;
    *last = now;
    double secs = absl::ToDoubleSeconds(now - start);
    double rate = secs > 0 ? done / secs / 1e6 : 0;
    double eta = rate > 0 ? (total - done) / 1e6 / rate : 0;
    std::fprintf(err, "%s%6.2f%%  %.1f / %.1f GB  %.0f MB/s  ETA %.0f s%s", tty ? "\r" : "",
                 total ? 100.0 * done / total : 100.0, done / 1e9, total / 1e9, rate, eta, tty ? "" : "\n");
  };
}

std::string Gb(uint64_t bytes) { return cli::HumanBytes(bytes); }

}  // namespace vmb::offline
