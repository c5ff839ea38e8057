#include "common/concurrent/buffer_pool.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace vmb::concurrent {
namespace {

TEST(BufferPool, ABufferLetGoOfIsHandedOutAgainAtFullSize) {
  BufferPool pool(1 << 20);
  const char* first;
  {
    auto b = pool.Get();
    ASSERT_EQ(b->size(), 1u << 20);
    first = b->data();
    b->resize(100);  // a user may shrink it
  }
  auto again = pool.Get();
  EXPECT_EQ(again->data(), first);  // the same memory, not a new allocation
  EXPECT_EQ(again->size(), 1u << 20);
  EXPECT_EQ(pool.made(), 1u);
}

TEST(BufferPool, MakesOnlyAsManyAsAreInUseAtOnceWhateverThreadLetsGo) {
  BufferPool pool(4096);
  for (int round = 0; round < 50; ++round) {
    auto a = pool.Get(), b = pool.Get(), c = pool.Get();
    std::thread t([a = std::move(a)]() mutable { a.reset(); });  // released on another thread
    t.join();
  }
  EXPECT_EQ(pool.made(), 3u);
}

}  // namespace
}  // namespace vmb::concurrent
