// diskprep (AzureOfflineBackupDiskPrep) on this computer's drives: see cli.h and diskprep.h.
//   diskprep s:<staging location> [p:<publish settings file>] --drive NAME [--drive NAME]... --yes
#include "offline_seed/diskprep/cli.h"

int main(int argc, char** argv) { return vmb::offline::RunDiskPrep(argc, argv); }
