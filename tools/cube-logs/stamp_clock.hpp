// cube::logs::StampClock — the forwarder's record times, never going backwards.
//
// Contract: stamp() is the wall clock as a CRI timestamp (nine digits, Z), except that a clock
// stepped back (NTP, an operator, a restored snapshot) does not make a record older than one
// already written: the time is held at the newest one until the clock catches up. Each held stamp
// is counted (clamped()); the first of a run is logged once. The reader's --since/--until search
// relies on this order. `floor_ns` is the newest record already in the files (a restart).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace cube::logs {

class StampClock {
 public:
  explicit StampClock(int64_t floor_ns, std::function<int64_t()> now = {});
  std::string stamp();
  uint64_t clamped() const { return m_clamped; }

 private:
  std::function<int64_t()> m_now;
  int64_t m_last = 0;
  bool m_holding = false;
  uint64_t m_clamped = 0;
};

}  // namespace cube::logs
