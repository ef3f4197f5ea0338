#include "ext2_errors.hpp"

#include "log.hpp"

extern "C" {
#include <et/com_err.h>
}

#include <cstdarg>
#include <cstdio>

namespace cube::rootfs {
namespace {

void to_debug_log(const char* who, long code, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format ? format : "", args);
  log::debug("libext2fs{}{}: {} {}", who ? " " : "", who ? who : "", code ? error_message(code) : "", text);
}

}  // namespace

void init_ext2_errors() {
  static const bool done = [] {
    initialize_ext2_error_table();
    set_com_err_hook(to_debug_log);
    return true;
  }();
  (void)done;
}

std::string ext2_error_text(errcode_t err) {
  init_ext2_errors();
  return error_message(err);
}

}  // namespace cube::rootfs
