// cube-logs: tail/head/time search over a chain of real files against a naive scan of the same bytes.
#include "cube-logs/scan.hpp"
#include "cube-logs-filter.hpp"
#include "cube-logs/allowlist.hpp"
#include "cube-logs/chain.hpp"
#include "cube-logs/cri.hpp"
#include "cube-logs/printer.hpp"
#include "output.hpp"
#include "seccomp.hpp"
#include "testing.hpp"
#include "timeutil.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <random>
#include <span>
#include <string>
#include <vector>

using namespace cube;
using namespace cube::logs;

namespace {

// A Chain over real (unlinked) temp files holding `parts`, oldest first.
Chain chain_of(const std::vector<std::string>& parts) {
  Chain c;
  for (size_t i = parts.size(); i-- > 0;) {
    char name[] = "/tmp/cube-logs-unit.XXXXXX";
    Fd fd(::mkstemp(name));
    EXPECT_TRUE(fd);
    ::unlink(name);
    EXPECT_EQ(::write(fd.get(), parts[i].data(), parts[i].size()), static_cast<ssize_t>(parts[i].size()));
    c.add_oldest(Segment{std::move(fd), name, parts[i].size(), 0, 0});
  }
  return c;
}

// Naive: offsets just after each line end, GNU style (a last line without \n counts).
std::vector<uint64_t> line_ends(const std::string& s, bool logical) {
  std::vector<uint64_t> ends;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    size_t end = nl == std::string::npos ? s.size() : nl + 1;
    bool partial = logical && cri::is_partial(std::string_view(s).substr(start, 64));
    if (!partial || end == s.size()) ends.push_back(end);
    start = end;
  }
  return ends;
}

std::string random_log(std::mt19937& rng, bool cri_records, int64_t& t) {
  std::string s;
  int n = static_cast<int>(rng() % 40);
  for (int i = 0; i < n; ++i) {
    std::string text(rng() % 3 == 0 ? rng() % 3000 : rng() % 20, 'a' + static_cast<char>(rng() % 26));
    if (cri_records) {
      t += static_cast<int64_t>(rng() % 3) * 1000;
      s += time::rfc3339_nano(t) + " stdout " + (rng() % 4 == 0 ? "P " : "F ") + text + "\n";
    } else {
      s += text + (rng() % 10 == 0 ? "\r\n" : "\n");
    }
  }
  if (!cri_records && rng() % 3 == 0) s += "tail-without-newline";
  return s;
}

}  // namespace

TEST(LogsScan, TailAndHeadMatchNaiveAcrossSegments) {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    bool cri_records = round % 2 == 0;
    int64_t t = 1'700'000'000'000'000'000;
    std::vector<std::string> parts;
    std::string all;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
      parts.push_back(random_log(rng, cri_records, t));
      if (k + 1 < n && !parts.back().empty() && parts.back().back() != '\n') parts.back() += '\n';
      all += parts.back();
    }
    Chain c = chain_of(parts);
    ASSERT_EQ(c.size(), all.size());
    for (Lines mode : {Lines::stored, Lines::logical}) {
      auto ends = line_ends(all, mode == Lines::logical);
      for (uint64_t n : {0, 1, 2, 3, 7, 39, 1000}) {
        uint64_t want_tail = n == 0 ? all.size() : n >= ends.size() ? 0 : ends[ends.size() - n - 1];
        EXPECT_EQ(tail_start(c, 0, c.size(), n, mode), want_tail) << "round " << round << " n " << n;
        uint64_t want_head = n == 0 ? 0 : n > ends.size() ? all.size() : ends[n - 1];
        EXPECT_EQ(head_end(c, 0, c.size(), n, mode), want_head) << "round " << round << " n " << n;
      }
    }
  }
}

TEST(LogsScan, TimeBoundIsTheFirstRecordAtOrAfter) {
  std::mt19937 rng(11);
  std::string all;
  std::vector<std::pair<int64_t, uint64_t>> stamps;  // time, offset
  int64_t t = 1'700'000'000'000'000'000;
  std::vector<std::string> parts(3);
  for (int i = 0; i < 30000; ++i) {
    t += static_cast<int64_t>(rng() % 4) * 1'000'000;
    std::string rec = time::rfc3339_nano(t) + " stdout F " + std::string(rng() % 200, 'x') + "\n";
    stamps.push_back({t, all.size()});
    all += rec;
    parts[static_cast<size_t>(i * 3 / 30000)] += rec;
  }
  Chain c = chain_of(parts);
  for (int probe = 0; probe < 200; ++probe) {
    int64_t q = stamps.front().first - 5'000'000 + static_cast<int64_t>(rng() % 100'000) * 1'000'000;
    uint64_t want = all.size();
    for (auto& [ts, off] : stamps)
      if (ts >= q) {
        want = off;
        break;
      }
    EXPECT_EQ(time_bound(c, 0, c.size(), q), want) << q;
  }
}

// print_range prints most records a whole buffer at a time (Cursor::records); the record-by-record
// path (Cursor::next, Decoder::feed) is the model it must equal, on every kind of line.
TEST(LogsPrint, WholeBuffersPrintAsRecordByRecord) {
  std::mt19937 rng(5);
  int64_t t = 1'700'000'000'000'000'000;
  auto printed = [](auto print) {
    test::Redirect out(STDOUT_FILENO);
    print();
    output::flush();
    return out.text();
  };
  for (int round = 0; round < 200; ++round) {
    std::string all;
    for (int i = 0, n = static_cast<int>(rng() % 60); i < n; ++i) {
      size_t len = rng() % 8 == 0 ? 20000 + rng() % 30000 : rng() % 120;  // some longer than a buffer
      std::string text(len, 'a' + static_cast<char>(rng() % 26));
      t += 1000;
      // Not CRI; part of a line; a line with a stamp of another writer (trailing zeros trimmed);
      // one with no text, ending at its tag; and most often a whole line of ours.
      int kind = static_cast<int>(rng() % 7);
      if (kind == 0)
        all += text + "\n";
      else if (kind == 2)
        all += "2024-01-01T00:00:00.5Z stderr F " + text + "\n";
      else if (kind == 3)
        all += "2024-01-01T00:00:00.5Z stdout F\n";
      else
        all += time::rfc3339_nano(t) + (kind == 1 ? " stderr P " : " stdout F ") + text + "\n";
    }
    if (rng() % 3 == 0) all += time::rfc3339_nano(t) + " stdout F no newline";
    Chain c = chain_of({all});
    for (Style style : {Style{false, false}, Style{false, true}, Style{true, false}}) {
      std::string want = printed([&] {
        Cursor cursor(c, 0, c.size());
        Decoder decoder(style);
        for (Piece piece; cursor.next(piece);) decoder.feed(piece);
        decoder.finish();
      });
      EXPECT_EQ(printed([&] { print_range(c, 0, c.size(), style); }), want)
          << "round " << round << " raw " << style.raw << " timestamps " << style.timestamps;
    }
  }
}

TEST(LogsSeccomp, TheProgramsCompiledInAreTheAllowlists) {
  auto same = [](std::span<const sock_filter> compiled, const std::vector<sock_filter>& now) {
    return compiled.size() == now.size() &&
           std::equal(compiled.begin(), compiled.end(), now.begin(), [](const sock_filter& a, const sock_filter& b) {
             return a.code == b.code && a.jt == b.jt && a.jf == b.jf && a.k == b.k;
           });
  };
  EXPECT_TRUE(same(compiled::k_reader, reader_allowlist(Following::no).bpf()));
  EXPECT_TRUE(same(compiled::k_follower, reader_allowlist(Following::yes).bpf()));
  EXPECT_GT(std::size(compiled::k_follower), std::size(compiled::k_reader));
}

TEST(LogsSeccomp, FilterTextNamesTheAllowedCalls) {
  seccomp::Filter f;
  f.allow({"read", "no_such_call_anywhere"}).allow_arg0("write", {1, 2});
  std::string pfc = f.pfc();
  EXPECT_NE(pfc.find("read"), std::string::npos);
  EXPECT_NE(pfc.find("write"), std::string::npos);
  EXPECT_EQ(pfc.find("openat"), std::string::npos);
}
