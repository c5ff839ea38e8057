#include "common/bench/report.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/file/file_util.h"
#include "common/json/json.h"
#include "common/status/status_macros.h"

namespace vmb::bench {
namespace {

proto::Figure Base(const std::string& id, const std::string& name, double value, const std::string& unit,
                   double reference, const std::string& reference_name) {
  proto::Figure f;
  f.set_id(id);
  f.set_name(name);
  f.set_value(value);
  f.set_unit(unit);
  f.set_reference(reference);
  f.set_referencename(reference_name);
  if (reference > 0) f.set_ratio(value / reference);
  return f;
}

std::string Num(double v) {
  if (v == 0) return "0";
  if (v >= 100) return absl::StrFormat("%.0f", v);
  if (v >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.3g", v);
}

}  // namespace

proto::Figure AtLeastRatio(const std::string& id, const std::string& name, double value, const std::string& unit,
                           double reference, const std::string& reference_name, double min_ratio) {
  proto::Figure f = Base(id, name, value, unit, reference, reference_name);
  f.set_target(absl::StrFormat(">= %.2f x ref", min_ratio));
  f.set_kind("min_ratio");
  f.set_targetvalue(min_ratio);
  f.set_score(reference > 0 ? f.ratio() / min_ratio : 0);
  f.set_verdict(reference > 0 && f.ratio() >= min_ratio ? "pass" : "miss");
  return f;
}

proto::Figure AtMostRatio(const std::string& id, const std::string& name, double value, const std::string& unit,
                          double reference, const std::string& reference_name, double max_ratio) {
  proto::Figure f = Base(id, name, value, unit, reference, reference_name);
  f.set_target(absl::StrFormat("<= %.2f x ref", max_ratio));
  f.set_kind("max_ratio");
  f.set_targetvalue(max_ratio);
  f.set_score(reference > 0 && f.ratio() > 0 ? max_ratio / f.ratio() : (reference > 0 ? 10 : 0));
  f.set_verdict(reference > 0 && f.ratio() <= max_ratio ? "pass" : "miss");
  return f;
}

proto::Figure AtMost(const std::string& id, const std::string& name, double value, const std::string& unit,
                     double limit, double reference, const std::string& reference_name) {
  proto::Figure f = Base(id, name, value, unit, reference, reference_name);
  f.set_target(absl::StrCat("<= ", Num(limit), " ", unit));
  f.set_kind("max_value");
  f.set_targetvalue(limit);
  f.set_score(value > 0 ? limit / value : 10);
  f.set_verdict(value <= limit ? "pass" : "miss");
  return f;
}

proto::Figure Info(const std::string& id, const std::string& name, double value, const std::string& unit,
                   double reference, const std::string& reference_name) {
  proto::Figure f = Base(id, name, value, unit, reference, reference_name);
  f.set_kind("info");
  f.set_verdict("info");
  return f;
}

std::string Table(const proto::Report& report) {
  std::string out = absl::StrFormat("%-52s %12s %-30s %7s %-16s %s\n", "figure", "ours", "reference (same run)",
                                    "ratio", "target", "verdict");
  for (const proto::Figure& f : report.figures()) {
    std::string ref = f.reference() > 0 ? absl::StrCat(Num(f.reference()), " ", f.referencename()) : f.referencename();
    out += absl::StrFormat("%-52s %12s %-30s %7s %-16s %s%s\n", f.name(), absl::StrCat(Num(f.value()), " ", f.unit()),
                           ref.substr(0, 30), f.reference() > 0 ? absl::StrFormat("%.2f", f.ratio()) : "-",
                           f.target().empty() ? "-" : f.target(), f.verdict(),
                           f.note().empty() ? "" : absl::StrCat("  (", f.note(), ")"));
  }
  return out;
}

bool ParseCommonFlag(const std::string& arg, CommonFlags* flags) {
  if (arg == "--quick") {
    flags->quick = true;
    return true;
  }
  if (absl::StartsWith(arg, "--json=") && arg.size() > 7) {
    flags->json_path = arg.substr(7);
    return true;
  }
  return false;
}

absl::Status Emit(proto::Report report, const CommonFlags& flags) {
  report.set_createdat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()));
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  report.set_host(host);
  report.set_mode(flags.quick ? "quick" : "full");
  std::fputs(Table(report).c_str(), stdout);
  std::fflush(stdout);
  if (flags.json_path.empty()) return absl::OkStatus();
  return file::WriteFileAtomic(flags.json_path, json::ToJson(report, true), 0644);
}

absl::StatusOr<proto::Report> ReadReport(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, file::ReadFile(path));
  proto::Report r;
  RETURN_IF_ERROR(json::Parse(text, &r, path));
  return r;
}

}  // namespace vmb::bench
