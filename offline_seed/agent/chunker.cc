#include "offline_seed/agent/chunker.h"

#include <algorithm>

namespace vmb::offline {

const std::array<uint64_t, 256>& GearTable() {
  static const std::array<uint64_t, 256> table = [] {
    std::array<uint64_t, 256> t{};
    uint64_t x = 0x5EEDC0DE5EEDC0DEull;
    for (auto& v : t) {
      x += 0x9E3779B97F4A7C15ull;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      v = z ^ (z >> 31);
    }
    return t;
  }();
  return table;
}

void ScanCandidates(const unsigned char* p, size_t warmup, size_t n, uint64_t base, std::vector<uint64_t>* out) {
  const uint64_t* gear = GearTable().data();
  uint64_t h = 0;
  for (const unsigned char* w = p - warmup; w < p; ++w) h = (h << 1) + gear[*w];
  // The top 16 bits clear is h < 2^48. Four bytes a step with one branch: this loop is a quarter of the initial
  // backup's CPU time.
  constexpr uint64_t kLimit = uint64_t{1} << 48;
  const unsigned char* q = p;
  for (const unsigned char* end = p + (n & ~size_t{3}); q < end; q += 4) {
    uint64_t h0 = (h << 1) + gear[q[0]];
    uint64_t h1 = (h0 << 1) + gear[q[1]];
    uint64_t h2 = (h1 << 1) + gear[q[2]];
    h = (h2 << 1) + gear[q[3]];
    if (__builtin_expect((h0 < kLimit) | (h1 < kLimit) | (h2 < kLimit) | (h < kLimit), 0)) {
      uint64_t at = base + static_cast<uint64_t>(q - p);
      if (h0 < kLimit) out->push_back(at + 1);
      if (h1 < kLimit) out->push_back(at + 2);
      if (h2 < kLimit) out->push_back(at + 3);
      if (h < kLimit) out->push_back(at + 4);
    }
  }
  for (const unsigned char* end = p + n; q < end; ++q) {
    h = (h << 1) + gear[*q];
    if (h < kLimit) out->push_back(base + static_cast<uint64_t>(q - p) + 1);
  }
}

void BoundaryPicker::Feed(const std::vector<uint64_t>& candidates, uint64_t end, bool eof,
                          std::vector<uint64_t>* ends) {
  for (uint64_t c : candidates) {
    while (c > start_ + kMaxChunk) Cut(start_ + kMaxChunk, ends);
    if (c >= start_ + kMinChunk) Cut(c, ends);
  }
  while (end >= start_ + kMaxChunk) Cut(start_ + kMaxChunk, ends);
  if (eof && end > start_) Cut(end, ends);
}

void BoundaryPicker::Cut(uint64_t at, std::vector<uint64_t>* ends) {
  ends->push_back(at);
  start_ = at;
}

std::vector<size_t> ChunkBoundaries(const std::string& data, size_t window) {
  BoundaryPicker picker;
  std::vector<uint64_t> ends, candidates;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  for (size_t at = 0;; at += window) {
    size_t n = std::min(window, data.size() - at), warmup = std::min(at, kGearWarmup);
    candidates.clear();
    ScanCandidates(p + at, warmup, n, at, &candidates);
    bool eof = at + n == data.size();
    picker.Feed(candidates, at + n, eof, &ends);
    if (eof) break;
  }
  return std::vector<size_t>(ends.begin(), ends.end());
}

}  // namespace vmb::offline
