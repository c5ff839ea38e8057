// The initial backup the offline seeding tests stage: one job, "seedjob1" in subscription "sub-123", storage account
// "seedacct", container "offline", with images small enough that a test's few MiB of data span several.
#ifndef VMBACKUP_OFFLINE_SEED_TESTING_INITIATE_OPTIONS_H_
#define VMBACKUP_OFFLINE_SEED_TESTING_INITIATE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "offline_seed/agent/staging.h"

namespace vmb::offline::testing {

inline constexpr char kJobName[] = "seedjob1";
inline constexpr char kSubscription[] = "sub-123";
inline constexpr char kStorageAccount[] = "seedacct";
inline constexpr char kContainer[] = "offline";

// Options for InitiateOfflineBackup staging `sources` into `staging` as the job above, in images of `image_size`
// bytes. Tests change what they need on the result (publish settings path, free space, threads).
InitiateOptions TestInitiateOptions(std::vector<std::string> sources, std::string staging,
                                    uint64_t image_size = 2u << 20);

}  // namespace vmb::offline::testing

#endif  // VMBACKUP_OFFLINE_SEED_TESTING_INITIATE_OPTIONS_H_
