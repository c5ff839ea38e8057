#include "offline_seed/agent/chunk_vectors_testing.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/file/file_util.h"
#include "gtest/gtest.h"

namespace vmb::offline::testing {
namespace {

constexpr char kVectors[] = "offline_seed/agent/testdata/chunk_boundaries.tsv";

// The recipe's generator: a 64-bit LCG (Knuth's MMIX constants), the top byte of each state.
std::string Lcg(uint64_t seed, size_t length) {
  std::string out(length, '\0');
  uint64_t x = seed;
  for (char& c : out) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    c = static_cast<char>(x >> 56);
  }
  return out;
}

}  // namespace

std::string BuildRecipe(const std::string& recipe) {
  std::string data;
  for (absl::string_view part : absl::StrSplit(recipe, '+')) {
    std::vector<std::string> f = absl::StrSplit(part, ':');
    uint64_t a = 0;
    size_t length = 0;
    if (f[0] == "lcg" && f.size() == 3 && absl::SimpleAtoi(f[1], &a) && absl::SimpleAtoi(f[2], &length)) {
      data += Lcg(a, length);
    } else if (f[0] == "fill" && f.size() == 3 && absl::SimpleHexAtoi(f[1], &a) && absl::SimpleAtoi(f[2], &length)) {
      data.append(length, static_cast<char>(a));
    } else if (f[0] == "rep" && f.size() == 3 && !f[1].empty() && absl::SimpleAtoi(f[2], &length)) {
      const std::string pattern = absl::HexStringToBytes(f[1]);
      for (size_t i = 0; i < length; ++i) data += pattern[i % pattern.size()];
    } else if (f[0] == "hex" && f.size() == 2) {
      data += absl::HexStringToBytes(f[1]);
    } else {
      ADD_FAILURE() << "cannot read the recipe part " << part;
    }
  }
  return data;
}

std::vector<ChunkVector> LoadChunkVectors() {
  absl::StatusOr<std::string> text = file::ReadFile(kVectors);
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<ChunkVector> out;
  if (!text.ok()) return out;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    if (line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    size_t length = 0;
    if (f.size() != 4 || !absl::SimpleAtoi(f[2], &length)) {
      ADD_FAILURE() << "bad line in " << kVectors << ": " << line;
      continue;
    }
    ChunkVector& v = out.emplace_back();
    v.name = f[0];
    v.data = BuildRecipe(f[1]);
    EXPECT_EQ(v.data.size(), length) << v.name;
    for (absl::string_view end : absl::StrSplit(f[3], ',', absl::SkipEmpty())) {
      size_t e = 0;
      EXPECT_TRUE(absl::SimpleAtoi(end, &e)) << v.name;
      v.ends.push_back(e);
    }
  }
  return out;
}

}  // namespace vmb::offline::testing
