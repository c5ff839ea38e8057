// Test helper: two trees are the same (names, types, bytes, modes, nanosecond mtimes, link targets), recursively.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_TREE_TESTING_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_TREE_TESTING_H_

#include <string>

namespace vmb::offline::testing {

// Adds a gtest failure per difference; returns the number of entries compared.
int ExpectSameTree(const std::string& expected, const std::string& actual);

}  // namespace vmb::offline::testing

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_TREE_TESTING_H_
