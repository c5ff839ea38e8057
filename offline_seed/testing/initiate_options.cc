#include "offline_seed/testing/initiate_options.h"

#include <utility>

namespace vmb::offline::testing {

InitiateOptions TestInitiateOptions(std::vector<std::string> sources, std::string staging, uint64_t image_size) {
  InitiateOptions o;
  o.sources = std::move(sources);
  o.staging = std::move(staging);
  o.job.set_jobname(kJobName);
  o.job.set_subscriptionid(kSubscription);
  o.job.set_storageaccount(kStorageAccount);
  o.job.set_container(kContainer);
  o.image_size = image_size;
  return o;
}

}  // namespace vmb::offline::testing
