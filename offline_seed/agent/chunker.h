// Content-defined chunking, part of the staging and vault formats: where a file's stored stream is cut into chunks.
// A gear rolling hash (a fixed SplitMix64 table) of the last 64 bytes with its top 16 bits clear allows a cut; a
// chunk is at least 16 KiB and at most 256 KiB long (64 KiB on average), so an insertion shifts only nearby chunks
// and an incremental backup finds the unchanged ones by hash. The scan runs on pieces of a stream (windows, on any
// thread) and finds exactly the cuts one pass over the whole stream would.
#ifndef VMBACKUP_OFFLINE_SEED_AGENT_CHUNKER_H_
#define VMBACKUP_OFFLINE_SEED_AGENT_CHUNKER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vmb::offline {

inline constexpr size_t kMinChunk = 16 << 10;
inline constexpr size_t kMaxChunk = 256 << 10;
inline constexpr size_t kGearWarmup = 64;  // bytes the rolling hash depends on

// The gear table: entry i is the i-th output of SplitMix64 seeded with 0x5EEDC0DE5EEDC0DE. Fixed by the format.
const std::array<uint64_t, 256>& GearTable();

// Candidate chunk ends among the n bytes at p: every k + 1 where the hash of the 64 bytes ending at p[k] has its top
// 16 bits clear, appended to `out` as base + k + 1. `warmup` (at most 64) bytes at p - warmup are the stream's bytes
// just before p: with them the result is the same as scanning the whole stream. An end with fewer than 64 bytes of
// the stream before it carries a partial hash; no chunk ends there (a chunk is at least 16 KiB).
void ScanCandidates(const unsigned char* p, size_t warmup, size_t n, uint64_t base, std::vector<uint64_t>* out);

// Picks chunk ends from the candidates, in stream order: the first candidate at least kMinChunk past the chunk's
// start, or kMaxChunk past it when none comes before that; at the end of the stream the rest is one last chunk.
class BoundaryPicker {
 public:
  // `candidates`: every candidate end in (the previous call's `end`, `end`], ascending. Ends picked are appended to
  // `ends`; `eof` says `end` is the end of the stream.
  void Feed(const std::vector<uint64_t>& candidates, uint64_t end, bool eof, std::vector<uint64_t>* ends);

 private:
  void Cut(uint64_t at, std::vector<uint64_t>* ends);
  uint64_t start_ = 0;
};

// Content-defined chunk boundaries of `data`: offsets where chunks end. `data` is scanned `window` bytes at a time,
// as ChunkTree reads files; the boundaries do not depend on it.
std::vector<size_t> ChunkBoundaries(const std::string& data, size_t window = 2 << 20);

}  // namespace vmb::offline

#endif  // VMBACKUP_OFFLINE_SEED_AGENT_CHUNKER_H_
