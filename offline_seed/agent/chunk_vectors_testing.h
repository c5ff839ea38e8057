// Test helper: the golden chunk boundaries in testdata/chunk_boundaries.tsv (computed from the format's definition
// by testdata/make_chunk_vectors.py, which shares no code with chunker.cc), with their inputs built from the
// recipes there.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_VECTORS_TESTING_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_VECTORS_TESTING_H_

#include <cstddef>
#include <string>
#include <vector>

namespace vmb::offline::testing {

struct ChunkVector {
  std::string name;
  std::string data;          // built from the recipe
  std::vector<size_t> ends;  // where the format cuts it
};

// Builds the bytes of a recipe (the language is described in make_chunk_vectors.py). Adds a gtest failure on a
// recipe it cannot read.
std::string BuildRecipe(const std::string& recipe);

// Every vector of the file (a gtest failure when it cannot be read or a length does not match its recipe).
std::vector<ChunkVector> LoadChunkVectors();

}  // namespace vmb::offline::testing

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_CHUNK_VECTORS_TESTING_H_
