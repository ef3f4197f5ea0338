#include "nft.hpp"

#include "dl.hpp"
#include "error.hpp"
#include "heap.hpp"

#include <fmt/format.h>
#include <nftables/libnftables.h>

#include <mutex>

namespace cube::nft {
namespace {

// libnftables fills its cache for the first command that needs one, and gives every table in it four
// hash tables of 128 KiB (8192 list heads, all written at once): with two tables, 256 pages that
// each fault in on their own, a tenth of `cube-egress-rules set --apply`. A short command keeps
// the memory it frees (heap::keep_freed_memory), so those tables land on 2 MiB faulted in first.
void prefault_heap() {
  static const bool done = (heap::prefault(2 << 20), true);
  (void)done;
}

// libnftables is opened with dlopen() when a command first needs it, not linked: it brings five
// more shared libraries (libnftnl, libmnl, libxtables, libjansson, libgmp), ~55 page faults and
// 1-2 ms at the start of every command of a tool that links it, and most commands never touch
// nftables (cube-tap ensure, the TAP step of cube-sandbox up; cube-egress-rules set, check, list).
// X(name) for each function Context calls. (clang-format leaves the macro as written.)
// clang-format off
#define CUBE_NFT_FUNCTIONS(X) \
  X(nft_ctx_new) X(nft_ctx_free) X(nft_ctx_buffer_output) X(nft_ctx_buffer_error) \
  X(nft_run_cmd_from_buffer) X(nft_ctx_get_output_buffer) X(nft_ctx_get_error_buffer) \
  X(nft_ctx_output_get_flags) X(nft_ctx_output_set_flags)
// clang-format on

struct Lib {
#define CUBE_NFT_MEMBER(name) decltype(&::name) name = nullptr;
  CUBE_NFT_FUNCTIONS(CUBE_NFT_MEMBER)
#undef CUBE_NFT_MEMBER
};

constexpr const char* k_soname = "libnftables.so.1";

Lib load() {
  void* handle = dl::open(k_soname, "reach nftables", "libnftables1");
  Lib lib;
#define CUBE_NFT_LOAD(name) \
  dl::bind(lib.name, handle, k_soname, #name, "install a libnftables1 of nftables 1.0 or newer");
  CUBE_NFT_FUNCTIONS(CUBE_NFT_LOAD)
#undef CUBE_NFT_LOAD
  return lib;
}

const Lib& lib() {
  static std::once_flag once;
  static Lib table;
  std::call_once(once, [] { table = load(); });
  return table;
}

}  // namespace

void Context::Free::operator()(nft_ctx* c) const { lib().nft_ctx_free(c); }

Context::Context() : m_ctx((prefault_heap(), lib().nft_ctx_new(NFT_CTX_DEFAULT))) {
  if (!m_ctx) throw Error(Exit::failed, "creating an nftables context", "out of memory");
  if (lib().nft_ctx_buffer_output(m_ctx.get()) != 0 || lib().nft_ctx_buffer_error(m_ctx.get()) != 0)
    throw Error(Exit::failed, "creating an nftables context", "cannot buffer its output");
}

Context::~Context() = default;

std::string Context::run(std::string_view commands, std::string_view doing) {
  std::string text(commands);
  int rc = lib().nft_run_cmd_from_buffer(m_ctx.get(), text.c_str());
  std::string out = lib().nft_ctx_get_output_buffer(m_ctx.get());
  std::string err = lib().nft_ctx_get_error_buffer(m_ctx.get());
  if (rc != 0) {
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    std::string hint =
        err.find("Operation not permitted") != std::string::npos ? "run as root or with CAP_NET_ADMIN" : "";
    throw Error(Exit::failed, std::string(doing), err.empty() ? "nftables refused it" : err, hint);
  }
  return out;
}

std::string Context::list(std::string_view command, unsigned output_flags, std::string_view doing) {
  unsigned before = lib().nft_ctx_output_get_flags(m_ctx.get());
  lib().nft_ctx_output_set_flags(m_ctx.get(), before | output_flags);
  struct Restore {
    nft_ctx* ctx;
    unsigned flags;
    ~Restore() { lib().nft_ctx_output_set_flags(ctx, flags); }
  } restore{m_ctx.get(), before};
  return run(command, doing);
}

bool Context::table_exists(std::string_view family, std::string_view name) {
  try {
    run(fmt::format("list table {} {}", family, name), "listing a table");
    return true;
  } catch (const Error& e) {
    if (e.why().find("No such file or directory") != std::string::npos) return false;
    throw;
  }
}

std::string delete_table_commands(std::string_view family, std::string_view name) {
  return fmt::format("add table {0} {1}\ndelete table {0} {1}\n", family, name);
}

}  // namespace cube::nft
