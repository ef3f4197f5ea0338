// cube-rootfs byte streams: the ISA-L inflater against gzip(1)'s own output — whole streams, streams
// handed over one byte at a time, concatenated members, zero padding, every kind of damage — and
// the read-ahead thread: order, errors, and stopping mid-stream; the spool of an inflated layer and
// its bound.
#include "cube-rootfs/inflater.hpp"
#include "cube-rootfs/layer_spool.hpp"
#include "cube-rootfs/read_ahead.hpp"
#include "error.hpp"
#include "fs.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

using namespace cube;
using namespace cube::rootfs;

namespace {

// Hands out a string in chunks of at most `chunk` bytes.
class StringSource : public ByteSource {
 public:
  StringSource(std::string data, size_t chunk) : m_data(std::move(data)), m_chunk(chunk) {}
  size_t read(const void** data) override {
    size_t n = std::min(m_chunk, m_data.size() - m_pos);
    *data = m_data.data() + m_pos;
    m_pos += n;
    return n;
  }

 private:
  std::string m_data;
  size_t m_chunk, m_pos = 0;
};

std::string read_all(ByteSource& s) {
  std::string out;
  const void* d;
  while (size_t n = s.read(&d)) out.append(static_cast<const char*>(d), n);
  return out;
}

std::string inflate(std::string data, size_t chunk) {
  StringSource raw(std::move(data), chunk);
  Inflater in(raw, "layer 1");
  return read_all(in);
}

// What gzip(1) itself makes of `plain`.
std::string gzip(const std::string& plain, const char* level = "-6") {
  test::TempDir dir;
  test::write_text(dir / "f", plain);
  if (std::system(fmt::format("gzip -n {} {}", level, dir / "f").c_str()) != 0) throw std::runtime_error("gzip failed");
  return fs::read_file(dir / "f.gz", 64 << 20);
}

std::string sample(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>("tar entries and log text "[rng() % 25] ^ (rng() % 7 == 0 ? rng() : 0));
  return s;
}

}  // namespace

TEST(RootfsInflater, PlainBytesPassThroughUnchanged) {
  for (size_t chunk : {1, 2, 3, 4096}) {
    std::string plain = sample(10000, 1);
    EXPECT_EQ(inflate(plain, chunk), plain) << chunk;
    EXPECT_EQ(inflate("x", chunk), "x");
    EXPECT_EQ(inflate("", chunk), "");
  }
}

TEST(RootfsInflater, GzipInAnyChunkingEqualsTheInput) {
  std::string plain = sample(3 << 20, 2);  // more than one output buffer
  std::string gz = gzip(plain);
  for (size_t chunk : {1, 2, 7, 4096, 1 << 20}) EXPECT_EQ(inflate(gz, chunk), plain) << chunk;
  EXPECT_EQ(inflate(gzip(""), 1), "");
  EXPECT_EQ(inflate(gzip(plain, "-1"), 65536), plain);
}

TEST(RootfsInflater, ConcatenatedMembersAndZeroPaddingReadAsGzipDoes) {
  std::string a = sample(100000, 3), b = sample(70000, 4);
  std::string two = gzip(a) + gzip(b);
  for (size_t chunk : {1, 5, 1 << 20}) {
    EXPECT_EQ(inflate(two, chunk), a + b) << chunk;
    EXPECT_EQ(inflate(two + std::string(1024, '\0'), chunk), a + b) << chunk;
  }
}

TEST(RootfsInflater, DamageIsAnErrorNamingTheStream) {
  std::string plain = sample(200000, 5);
  std::string gz = gzip(plain);
  auto fails = [](std::string data, const char* what) {
    Error e = test::error_of([&] { inflate(std::move(data), 4096); });
    EXPECT_EQ(e.code(), Exit::usage) << what;
    EXPECT_TRUE(test::contains(e.what(), "layer 1: the gzip stream")) << e.what();
    EXPECT_TRUE(test::contains(e.what(), what)) << e.what();
  };
  fails(gz.substr(0, gz.size() / 2), "ends in the middle");
  fails(gz.substr(0, gz.size() - 3), "ends in the middle");  // a cut trailer
  std::string crc = gz;
  crc[crc.size() - 6] ^= 0x55;
  fails(crc, "CRC-32 or length");
  std::string body = gz;
  for (size_t i = 100; i < 200; ++i) body[i] = static_cast<char>(~body[i]);
  fails(body, "has ");
  fails(gz + "garbage", "data after the gzip stream");
  fails(gz + std::string(8, '\0') + "x", "data after the zero bytes");
  std::string method = gz;
  method[2] = 9;  // not deflate
  fails(method, "other than deflate");
}

namespace {

// Counts up in chunks of `chunk` bytes, then fails after `fail_after` chunks when that is set.
class CountingSource : public ByteSource {
 public:
  CountingSource(size_t chunks, size_t chunk, size_t fail_after = SIZE_MAX)
      : m_chunks(chunks), m_fail_after(fail_after), m_buf(chunk, '\0') {}
  size_t read(const void** data) override {
    if (m_done == m_fail_after) throw Error(Exit::usage, "layer 1: broken on purpose");
    if (m_done == m_chunks) return 0;
    for (auto& c : m_buf) c = static_cast<char>(m_done);
    ++m_done;
    *data = m_buf.data();
    return m_buf.size();
  }
  size_t done() const { return m_done; }

 private:
  size_t m_chunks, m_fail_after, m_done = 0;
  std::string m_buf;
};

}  // namespace

TEST(RootfsReadAhead, ChunksComeOutInOrderAndWhole) {
  CountingSource inner(1000, 4096);
  ReadAhead ahead(inner);
  const void* d;
  for (size_t i = 0; i < 1000; ++i) {
    ASSERT_EQ(ahead.read(&d), 4096u);
    std::string_view chunk(static_cast<const char*>(d), 4096);
    ASSERT_EQ(chunk.find_first_not_of(static_cast<char>(i)), std::string_view::npos) << i;
  }
  EXPECT_EQ(ahead.read(&d), 0u);
  EXPECT_EQ(ahead.read(&d), 0u);
  EXPECT_EQ(ahead.skip(100), 0);
}

TEST(RootfsReadAhead, AnErrorArrivesAfterTheChunksBeforeIt) {
  CountingSource inner(100, 10, 5);
  ReadAhead ahead(inner);
  const void* d;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(ahead.read(&d), 10u);
  Error e = test::error_of([&] { ahead.read(&d); });
  EXPECT_TRUE(test::contains(e.what(), "broken on purpose")) << e.what();
}

TEST(RootfsReadAhead, StopsMidStreamAndHandsTheSourceBack) {
  CountingSource inner(1000000, 64);
  {
    ReadAhead ahead(inner);
    const void* d;
    ASSERT_EQ(ahead.read(&d), 64u);
  }
  size_t stopped_at = inner.done();
  EXPECT_LT(stopped_at, 1000000u) << "the thread stopped instead of reading everything";
  const void* d;
  EXPECT_EQ(inner.read(&d), 64u);  // the caller may read on
  EXPECT_EQ(inner.done(), stopped_at + 1);
}

TEST(RootfsLayerSpool, KeepsWhatPassesThroughAndReadsItBack) {
  test::TempDir dir;
  SpoolBudget budget = SpoolBudget::for_dir(dir.path());
  ASSERT_GT(budget.left, 0u);
  uint64_t before = budget.left;
  std::string data(300000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  StringSource inner(data, 4096);
  LayerSpool spool(budget, "layer 1");
  spool.attach(inner);
  EXPECT_EQ(read_all(spool), data);
  ASSERT_TRUE(spool.usable());
  EXPECT_EQ(spool.bytes(), data.size());
  EXPECT_EQ(budget.left, before - data.size());
  auto again = spool.reopen();
  EXPECT_EQ(read_all(*again), data);
  EXPECT_EQ(again->skip(10), 0);  // at the end: nothing left to skip
  // The spool has no name: the directory stays empty.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(RootfsLayerSpool, PastItsBudgetALayerIsDroppedAndStillPassesThrough) {
  test::TempDir dir;
  SpoolBudget budget = SpoolBudget::for_dir(dir.path());
  budget.left = 10000;
  std::string data(50000, 'y');
  StringSource inner(data, 4096);
  LayerSpool spool(budget, "layer 2");
  spool.attach(inner);
  EXPECT_EQ(read_all(spool), data);
  EXPECT_FALSE(spool.usable());
  EXPECT_EQ(budget.left, 10000u) << "a dropped spool gives its bytes back";
}

// Two layers are read at once (layer_scan.hpp) and share one budget: together they never take
// more than it holds, and what a dropped spool took comes back.
TEST(RootfsLayerSpool, LayersReadAtOnceShareTheBudget) {
  test::TempDir dir;
  SpoolBudget budget = SpoolBudget::for_dir(dir.path());
  for (int round = 0; round < 20; ++round) {
    budget.left = 300000;
    std::string data(200000, 'z');
    StringSource a_in(data, 1000), b_in(data, 1000);
    LayerSpool a(budget, "layer 1"), b(budget, "layer 2");
    a.attach(a_in);
    b.attach(b_in);
    std::thread other([&] { read_all(b); });
    read_all(a);
    other.join();
    EXPECT_LT(a.usable() + b.usable(), 2) << "both spools kept 400000 bytes of a 300000-byte budget";
    uint64_t kept = (a.usable() ? a.bytes() : 0) + (b.usable() ? b.bytes() : 0);
    EXPECT_EQ(budget.left + kept, 300000u);
  }
}

TEST(RootfsLayerSpool, NoDirectoryNoSpool) {
  SpoolBudget budget = SpoolBudget::for_dir("");
  StringSource inner("abc", 1);
  LayerSpool spool(budget, "layer 3");
  spool.attach(inner);
  EXPECT_EQ(read_all(spool), "abc");
  EXPECT_FALSE(spool.usable());
}
