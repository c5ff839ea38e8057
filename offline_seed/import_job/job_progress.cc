#include "offline_seed/import_job/job_progress.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace vmb::ie {

JobProgress ProgressOf(const proto::Job& job) {
  JobProgress p;
  const std::string& state = job.properties().state();
  std::map<std::string, int> counts;
  bool all_finished = job.properties().drivelist_size() > 0;
  for (const auto& d : job.properties().drivelist()) {
    ++counts[d.state().empty() ? "Unknown" : d.state()];
    const bool finished = d.state() == "Completed" || d.state() == "CompletedMoreInfo" ||
                          d.state() == "NeverReceived" || d.state() == "ShippedBack";
    all_finished &= finished;
    p.needs_repair |= d.state() == "CompletedMoreInfo" || d.state() == "NeverReceived";
  }
  // A drive is NeverReceived only once the datacenter has processed the package; ShippedBack only after it finished.
  p.data_done =
      all_finished && (state == "Transferring" || state == "Packaging" || state == "Completed" || state == "Closed");
  p.needs_repair |= state == "Closed";
  p.summary = state.empty() ? "unknown" : state;
  if (!counts.empty()) {
    absl::StrAppend(&p.summary, "; drives:");
    const char* sep = " ";
    for (const auto& [s, n] : counts) {
      absl::StrAppend(&p.summary, sep, n, " ", s);
      sep = ", ";
    }
  }
  return p;
}

std::string JobGoneExplanation(const std::string& job_name) {
  return absl::StrCat(
      "import job ", job_name,
      " no longer exists: Azure deletes an import job 90 days after it is Completed or "
      "Closed, and a job left in Creating without shipping details after two weeks. If `seedagent status` says "
      "Protected, its data is already in the vault and nothing is lost; otherwise prepare the drives again with "
      "`diskprep s:` (a new job) or start a new initial backup");
}

}  // namespace vmb::ie
