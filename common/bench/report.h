// Benchmark figures, all reported the same way: our value, the reference measured in the same run, the ratio and
// the target, with a verdict. Every benchmark binary prints Table() and, given --json=FILE, writes the report as
// JSON so `//tools/bench` can gather the figures of all of them into one table, one JSON file and one chart.
#ifndef VMBACKUP_COMMON_BENCH_REPORT_H_
#define VMBACKUP_COMMON_BENCH_REPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/bench/bench.pb.h"

namespace vmb::bench {

// value / reference >= min_ratio ("higher is better", e.g. throughput).
proto::Figure AtLeastRatio(const std::string& id, const std::string& name, double value, const std::string& unit,
                           double reference, const std::string& reference_name, double min_ratio);
// value / reference <= max_ratio ("lower is better", e.g. time or bytes against a reference).
proto::Figure AtMostRatio(const std::string& id, const std::string& name, double value, const std::string& unit,
                          double reference, const std::string& reference_name, double max_ratio);
// value <= limit (an absolute target, e.g. 250 ms), with an optional reference shown beside it.
proto::Figure AtMost(const std::string& id, const std::string& name, double value, const std::string& unit,
                     double limit, double reference = 0, const std::string& reference_name = "");
// No target: shown for context.
proto::Figure Info(const std::string& id, const std::string& name, double value, const std::string& unit,
                   double reference = 0, const std::string& reference_name = "");

// A fixed-width table: figure, ours, reference, ratio, target, verdict.
std::string Table(const proto::Report& report);

// The flags every benchmark takes: --json=FILE (write the report there) and --quick (smaller, faster run).
struct CommonFlags {
  std::string json_path;
  bool quick = false;
};
// Consumes the flags it knows from argv (returns false on a malformed one).
bool ParseCommonFlag(const std::string& arg, CommonFlags* flags);

// Prints the table to stdout and writes the JSON when asked. A non-OK status when the JSON cannot be written.
absl::Status Emit(proto::Report report, const CommonFlags& flags);

absl::StatusOr<proto::Report> ReadReport(const std::string& path);

}  // namespace vmb::bench

#endif  // VMBACKUP_COMMON_BENCH_REPORT_H_
