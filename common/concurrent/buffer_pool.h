// Fixed-capacity byte buffers, reused: a fresh multi-MiB buffer per unit of work is faulted in page by page every
// time and, freed on whatever thread, keeps malloc arenas growing with the length of the run. A buffer goes back to
// the pool when its last user lets go of it, on whatever thread. Get() hands out a string of `size` bytes; a user may
// shrink it (resize within the capacity does not reallocate).
#ifndef VMBACKUP_COMMON_CONCURRENT_BUFFER_POOL_H_
#define VMBACKUP_COMMON_CONCURRENT_BUFFER_POOL_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vmb::concurrent {

class BufferPool {
 public:
  explicit BufferPool(size_t size) : size_(size) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // The pool must outlive every buffer it handed out.
  std::shared_ptr<std::string> Get() {
    std::string* b = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        b = free_.back().release();
        free_.pop_back();
      }
    }
    if (b == nullptr) {
      b = new std::string(size_, '\0');
      std::lock_guard<std::mutex> lock(mu_);
      ++made_;
    } else {
      b->resize(size_);
    }
    return std::shared_ptr<std::string>(b, [this](std::string* s) {
      std::lock_guard<std::mutex> lock(mu_);
      free_.emplace_back(s);
    });
  }

  // Buffers made so far (in use or free): what the pool holds at its peak.
  size_t made() const {
    std::lock_guard<std::mutex> lock(mu_);
    return made_;
  }

 private:
  const size_t size_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<std::string>> free_;
  size_t made_ = 0;
};

}  // namespace vmb::concurrent

#endif  // VMBACKUP_COMMON_CONCURRENT_BUFFER_POOL_H_
