// diskprep with the simulated drive bay as well as this computer's drives (`--bay DIR`): the production command
// line (offline_seed/diskprep/cli.h) for the tests, the demo and the benchmarks. The shipped binary is
// //offline_seed/diskprep, which never links a simulator.
#include "offline_seed/diskprep/cli.h"
#include "simulators/sata/bay_drives.h"

int main(int argc, char** argv) {
  return vmb::offline::RunDiskPrep(
      argc, argv,
      {{"--bay", "--bay DIR             the drive bay (simulated SATA drives; see satasim)",
        [](const std::string& dir) -> absl::StatusOr<std::unique_ptr<vmb::offline::DriveEnumerator>> {
          return std::make_unique<vmb::sata::BayDrives>(dir);
        }}});
}
