// Azure's naming rules for what an offline backup names, checked before anything is written (a name Azure refuses
// would otherwise surface only after the drives are filled, or at the datacenter). Each error names the rule.
#ifndef VMBACKUP_OFFLINE_SEED_IMPORT_JOB_NAMES_H_
#define VMBACKUP_OFFLINE_SEED_IMPORT_JOB_NAMES_H_

#include <string>

#include "absl/status/status.h"

namespace vmb::ie {

// An import job (an ARM resource name): 2 to 64 letters, digits and hyphens, starting with a letter.
absl::Status CheckJobName(const std::string& name);
// A blob container: 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, no
// two hyphens together.
absl::Status CheckContainerName(const std::string& name);
// A storage account: 3 to 24 lowercase letters and digits.
absl::Status CheckStorageAccountName(const std::string& name);

}  // namespace vmb::ie

#endif  // VMBACKUP_OFFLINE_SEED_IMPORT_JOB_NAMES_H_
