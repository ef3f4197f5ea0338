// The pool verbs: warm, status, shrink.
#include "commands.hpp"
#include "commands_session.hpp"

#include "output.hpp"
#include "pool.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace cube::tap::cmd {
namespace {

void print_status(cli::Context& ctx, const PoolStatus& p, std::optional<int64_t> changed) {
  using output::Align;
  output::Table t({{"pooled", "Pooled", Align::right},
                   {"in_use", "In use", Align::right},
                   {"changing", "Changing", Align::right},
                   {"quarantined", "Quarantined", Align::right},
                   {"pool_max", "Pool max", Align::right},
                   {"addresses_used", "Addresses used", Align::right},
                   {"addresses_total", "Addresses total", Align::right},
                   {"changed", "Changed", Align::right}});
  t.add({p.pooled, p.in_use, p.changing, p.quarantined, p.pool_max, p.addresses_used,
         static_cast<int64_t>(p.addresses_total), changed ? output::Cell(*changed) : output::Cell()});
  output::print_record(t, ctx.format());
}

// A one-line counter on stderr when it is a terminal; nothing otherwise.
std::function<void(size_t, size_t)> progress() {
  if (!::isatty(STDERR_FILENO)) return {};
  return [](size_t done, size_t total) {
    std::fprintf(stderr, "\rcube-tap: building TAPs %zu/%zu", done, total);
    if (done == total) std::fputc('\n', stderr);
  };
}

}  // namespace

void pool_warm(cli::Context& ctx, const PoolArgs& a) {
  Session s(ctx);
  size_t built = tap::pool_warm(s.env, a.count, progress());
  print_status(ctx, tap::pool_status(s.env), static_cast<int64_t>(built));
}

void pool_status(cli::Context& ctx) {
  Session s(ctx);
  print_status(ctx, tap::pool_status(s.env), std::nullopt);
}

void pool_shrink(cli::Context& ctx, const PoolArgs& a) {
  Session s(ctx);
  size_t gone = tap::pool_shrink(s.env, a.count);
  print_status(ctx, tap::pool_status(s.env), static_cast<int64_t>(gone));
}

}  // namespace cube::tap::cmd
