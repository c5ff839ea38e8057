// What seedagent prints beside its results: usage and failure lines, progress lines, what a backup could not keep
// and what a restore could not put back, and the exit statuses they stand for.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_CONSOLE_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_CONSOLE_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/repeated_field.h"
#include "offline_seed/agent/entry_meta.h"
#include "offline_seed/agent/staging.pb.h"

namespace vmb::offline {

// Where seedagent writes: results on `out`, everything else on `err` (`tty`: err is a terminal, so progress lines
// rewrite themselves).
struct Console {
  std::FILE* out = stdout;
  std::FILE* err = stderr;
  bool tty = false;
};

// "seedagent: <problem>" and where to look; exit status 2.
int Usage(const Console& c, const std::string& problem);

// "seedagent: <message>"; exit status 1.
int Fail(const Console& c, const absl::Status& s);

// Lists what a backup could not keep as it was (on err) and gives the exit status: 3 when an entry could not be
// read (the backup is incomplete), else 0.
int ReportProblems(const Console& c, const google::protobuf::RepeatedPtrField<proto::Problem>& problems);

// What a restore could not put back (on err).
void ReportRestore(const Console& c, const RestoreReport& r);

// A progress line per phase on err: bytes, MB/s, ETA (a carriage return on a terminal, lines otherwise), at most
// every 500 ms and at the end of each phase.
std::function<void(const std::string& phase, uint64_t done, uint64_t total)> ProgressPrinter(const Console& c);

// Initiate's progress line (no phase; tenths of GB).
std::function<void(uint64_t done, uint64_t total)> InitiateProgressPrinter(const Console& c);

// Bytes for people (common/cli/sizes).
std::string Gb(uint64_t bytes);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_CONSOLE_H_
