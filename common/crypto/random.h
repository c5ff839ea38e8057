// Where key material and recovery passwords get their randomness. Production code uses SecureRandom() (OpenSSL's
// DRBG); tests pass a deterministic source so results are reproducible.
#ifndef VMBACKUP_COMMON_CRYPTO_RANDOM_H_
#define VMBACKUP_COMMON_CRYPTO_RANDOM_H_

#include <cstddef>
#include <string>

namespace vmb::crypto {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out[0..size)`. Thread-safe in every implementation here. Aborts if the OS cannot provide entropy
  // (continuing with weak keys would be worse).
  virtual void Fill(char* out, size_t size) = 0;

  std::string Bytes(size_t size) {
    std::string out(size, '\0');
    Fill(out.data(), size);
    return out;
  }
};

// The process-wide cryptographically secure source (RAND_bytes).
RandomSource& SecureRandom();

}  // namespace vmb::crypto

#endif  // VMBACKUP_COMMON_CRYPTO_RANDOM_H_
