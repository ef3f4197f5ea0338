#include "version.hpp"

#include "json_writer.hpp"

#include <fmt/format.h>

namespace cube::version {

// Defined in the generated build/gen/stamp.cpp.
extern const char k_stamp_marker[];
extern const char k_stamp_version[];
extern const char k_stamp_commit[];
extern const char k_stamp_build_time[];

const Stamp& current() {
  static const Stamp s{k_stamp_version, k_stamp_commit, k_stamp_build_time};
  // The marker must survive linking; reading it here keeps it referenced.
  static const volatile char keep = k_stamp_marker[0];
  (void)keep;
  return s;
}

std::string line(std::string_view tool) {
  const Stamp& s = current();
  return fmt::format("{} {} ({}) built at {}", tool, s.version, s.commit, s.build_time);
}

std::string json(std::string_view tool) {
  const Stamp& s = current();
  json::Writer w;
  w.begin_object();
  w.field("name", tool);
  w.field("version", s.version);
  w.field("commit", s.commit);
  w.field("build_time", s.build_time);
  w.end_object();
  return w.take();
}

}  // namespace cube::version
