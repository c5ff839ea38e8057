#include "common/crypto/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace vmb::crypto {
namespace {

class OpenSslRandom : public RandomSource {
 public:
  void Fill(char* out, size_t size) override {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out), static_cast<int>(size)) != 1) {
      std::fputs("fatal: OpenSSL random source failed; refusing to continue with weak keys\n", stderr);
      std::abort();
    }
  }
};

}  // namespace

RandomSource& SecureRandom() {
  static OpenSslRandom* source = new OpenSslRandom();
  return *source;
}

}  // namespace vmb::crypto
