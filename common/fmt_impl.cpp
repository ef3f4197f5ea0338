// fmt's compiled part, built into libcube instead of linked from libfmt.so. Why: libfmt.so pulls
// libstdc++.so back into every tool, and binding it is most of a short command's start-up; the
// header-only mode avoids that too but costs every translation unit three seconds of compile.
// These are the explicit instantiations libfmt itself compiles for char (fmt 9).
#include <fmt/format-inl.h>

// The list below is fmt 9's (src/format.cc of 9.x); another major version instantiates other
// functions, and a mismatch would show up only as link errors or as missing symbols at run time.
static_assert(FMT_VERSION >= 90000 && FMT_VERSION < 100000,
              "common/fmt_impl.cpp instantiates fmt 9's compiled part: update its list for this fmt version");

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);

}  // namespace detail
FMT_END_NAMESPACE
